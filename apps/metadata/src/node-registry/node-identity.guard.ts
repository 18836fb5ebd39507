import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { PermissionDeniedError } from '@cloudstore/contracts';
import { callerIdentity, type InternalTransport, serviceIdentity } from '@cloudstore/grpc';
import { METADATA_TRANSPORT } from '../metadata.tokens';

/**
 * A storage node registers, heartbeats and asks before it stops only as the node its certificate
 * names (`spiffe://cloudstore/<node id>`): no other caller can announce a node and so receive
 * replicas, nor learn what another node holds. With INTERNAL_TLS=off there are no identities,
 * and nothing to check.
 */
@Injectable()
export class NodeIdentityGuard implements CanActivate {
  constructor(@Inject(METADATA_TRANSPORT) private readonly transport: InternalTransport) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.transport.secure) return true;
    const { nodeId } = context.switchToRpc().getData<{ nodeId?: string }>();
    // NestJS hands a gRPC handler (request, metadata, call).
    const caller = callerIdentity(context.getArgByIndex(2));
    if (caller === undefined || caller !== serviceIdentity(nodeId ?? '')) {
      throw new PermissionDeniedError(`A node may only speak for itself; the caller is ${caller ?? 'unnamed'}`);
    }
    return true;
  }
}
