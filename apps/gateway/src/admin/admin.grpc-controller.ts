import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { publicApi } from '@cloudstore/contracts';
import { AuditService, grpcAuditRequest } from '../audit/audit.service';
import { AccountErasureService, erasureResponse } from '../account/account-erasure.service';
import { GrpcCallers } from '../public-grpc/grpc-callers';
import { AdminUsersService, type UserView } from './admin-users.service';
import { ClusterAdminService, type ClusterNodeView } from './cluster-admin.service';
import { SigningKeysAdminService } from './signing-keys-admin.service';

function userInfo(user: UserView): publicApi.UserInfo {
  return {
    userId: user.user_id,
    username: user.username,
    email: user.email,
    role: user.role,
    active: user.active,
    totpEnabled: user.totp_enabled,
    createdAt: user.created_at,
    quotaBytes: user.quota_bytes ?? 0,
    usedBytes: user.used_bytes ?? 0,
  };
}

function clusterNode(node: ClusterNodeView): publicApi.ClusterNode {
  return {
    nodeId: node.node_id,
    address: node.address,
    status: node.status,
    usedBytes: node.used_bytes,
    capacityBytes: node.capacity_bytes,
    chunkCount: node.chunk_count,
    lastHeartbeat: node.last_heartbeat,
  };
}

/** The public AdminService: the same service calls as /v1/admin, for admins only. */
@Controller()
@publicApi.AdminServiceControllerMethods()
export class AdminGrpcController implements publicApi.AdminServiceController {
  constructor(
    private readonly users: AdminUsersService,
    private readonly cluster: ClusterAdminService,
    private readonly signingKeys: SigningKeysAdminService,
    private readonly audit: AuditService,
    private readonly erasure: AccountErasureService,
    private readonly callers: GrpcCallers,
  ) {}

  async listUsers(request: publicApi.ListUsersRequest, metadata: Metadata): Promise<publicApi.ListUsersResponse> {
    const caller = await this.callers.admin(request, metadata);
    const result = await this.users.list(caller, request.limit, request.offset, request.filter);
    return { success: true, users: result.users.map(userInfo), totalCount: result.total_count };
  }

  async updateUser(
    request: publicApi.UpdateUserRequest,
    metadata: Metadata,
    call: ServerUnaryCall<unknown, unknown>,
  ): Promise<publicApi.UserInfo> {
    const caller = await this.callers.admin(request, metadata);
    const patch = { role: request.role, active: request.active, quotaBytes: request.quotaBytes };
    return userInfo(await this.users.update(caller, request.userId, patch, this.callers.origin(call, metadata)));
  }

  async getClusterStatus(
    request: publicApi.GetClusterStatusRequest,
    metadata: Metadata,
  ): Promise<publicApi.GetClusterStatusResponse> {
    await this.callers.admin(request, metadata);
    const status = await this.cluster.status();
    return {
      success: true,
      nodes: status.nodes.map(clusterNode),
      underReplicatedChunks: status.under_replicated_chunks,
      jobs: status.jobs,
    };
  }

  async drainNode(request: publicApi.DrainNodeRequest, metadata: Metadata): Promise<publicApi.DrainNodeResponse> {
    await this.callers.admin(request, metadata);
    return { success: true, node: clusterNode(await this.cluster.drain(request.nodeId)) };
  }

  async rotateSigningKeys(
    request: publicApi.RotateSigningKeysRequest,
    metadata: Metadata,
    call: ServerUnaryCall<unknown, unknown>,
  ): Promise<publicApi.RotateSigningKeysResponse> {
    const caller = await this.callers.admin(request, metadata);
    const rotation = await this.signingKeys.rotate(caller, this.callers.origin(call, metadata));
    return {
      success: true,
      keyId: rotation.key_id,
      createdAt: rotation.created_at,
      retiring: rotation.retiring.map((k) => ({ keyId: k.key_id, verifyUntil: k.verify_until })),
    };
  }

  async listAllAuditEvents(
    request: publicApi.ListAllAuditEventsRequest,
    metadata: Metadata,
  ): Promise<publicApi.ListAuditEventsResponse> {
    await this.callers.admin(request, metadata);
    return { success: true, ...(await this.audit.listAll(grpcAuditRequest(request))) };
  }

  async deleteUser(
    request: publicApi.DeleteUserRequest,
    metadata: Metadata,
    call: ServerUnaryCall<unknown, unknown>,
  ): Promise<publicApi.DeleteAccountResponse> {
    const caller = await this.callers.admin(request, metadata);
    return erasureResponse(await this.erasure.eraseByAdmin(caller, request.userId, this.callers.origin(call, metadata)));
  }
}
