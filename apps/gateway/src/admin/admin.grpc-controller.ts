import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { ADMIN_SERVICE, publicApi } from '@cloudstore/contracts';
import { RequestAuthenticator } from '../auth/request-authenticator';
import { RequestOrigins } from '../auth/request-origins';
import { AdminUsersService, type UserView } from './admin-users.service';
import { ClusterAdminService, type ClusterNodeView } from './cluster-admin.service';

const SERVICE = ADMIN_SERVICE.serviceName;

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

/** The public AdminService: the same operations as /v1/admin, for admins only. */
@Controller()
export class AdminGrpcController {
  constructor(
    private readonly users: AdminUsersService,
    private readonly cluster: ClusterAdminService,
    private readonly authenticator: RequestAuthenticator,
    private readonly origins: RequestOrigins,
  ) {}

  @GrpcMethod(SERVICE, 'ListUsers')
  async listUsers(request: publicApi.ListUsersRequest, metadata: Metadata): Promise<publicApi.ListUsersResponse> {
    const caller = await this.authenticator.adminFromGrpc(request.authToken, metadata);
    const result = await this.users.list(caller, request.limit || 50, request.offset, request.filter);
    return { success: true, users: result.users.map(userInfo), totalCount: result.total_count };
  }

  @GrpcMethod(SERVICE, 'UpdateUser')
  async updateUser(
    request: publicApi.UpdateUserRequest,
    metadata: Metadata,
    call: ServerUnaryCall<unknown, unknown>,
  ): Promise<publicApi.UserInfo> {
    const caller = await this.authenticator.adminFromGrpc(request.authToken, metadata);
    const patch = {
      ...(request.role !== undefined ? { role: request.role } : {}),
      ...(request.active !== undefined ? { active: request.active } : {}),
    };
    return userInfo(await this.users.update(caller, request.userId, patch, this.origins.grpc(call, metadata)));
  }

  @GrpcMethod(SERVICE, 'GetClusterStatus')
  async getClusterStatus(
    request: publicApi.GetClusterStatusRequest,
    metadata: Metadata,
  ): Promise<publicApi.GetClusterStatusResponse> {
    await this.authenticator.adminFromGrpc(request.authToken, metadata);
    const status = await this.cluster.status();
    return {
      success: true,
      nodes: status.nodes.map(clusterNode),
      underReplicatedChunks: status.under_replicated_chunks,
      jobs: status.jobs,
    };
  }

  @GrpcMethod(SERVICE, 'DrainNode')
  async drainNode(request: publicApi.DrainNodeRequest, metadata: Metadata): Promise<publicApi.DrainNodeResponse> {
    await this.authenticator.adminFromGrpc(request.authToken, metadata);
    return { success: true, node: clusterNode(await this.cluster.drain(request.nodeId)) };
  }
}
