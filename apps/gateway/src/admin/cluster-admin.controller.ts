import { Controller, Get, HttpCode, Param, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Caller } from '@cloudstore/access-tokens';
import type { Request } from 'express';
import { AuthenticatedGuard, CurrentCaller, Roles } from '../auth/authenticated.guard';
import { RequestOrigins } from '../auth/request-origins';
import { ClusterAdminService, type ClusterNodeView, type ClusterView } from './cluster-admin.service';
import { type SigningKeyRotationView, SigningKeysAdminService } from './signing-keys-admin.service';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin')
@UseGuards(AuthenticatedGuard)
@Roles('admin')
export class ClusterAdminController {
  constructor(
    private readonly cluster: ClusterAdminService,
    private readonly signingKeys: SigningKeysAdminService,
    private readonly origins: RequestOrigins,
  ) {}

  /** Nodes, chunks below their replication factor, and the repair jobs. */
  @Get('cluster')
  status(): Promise<ClusterView> {
    return this.cluster.status();
  }

  /** Moves every replica off the node; it ends `drained` and can be taken away. */
  @Post('nodes/:nodeId/drain')
  @HttpCode(202)
  drain(@Param('nodeId') nodeId: string): Promise<ClusterNodeView> {
    return this.cluster.drain(nodeId);
  }

  /** A new token signing key signs from now on; the previous ones verify their tokens until those expire. */
  @Post('keys/rotate')
  @HttpCode(200)
  rotateKeys(@CurrentCaller() caller: Caller, @Req() req: Request): Promise<SigningKeyRotationView> {
    return this.signingKeys.rotate(caller, this.origins.http(req));
  }
}
