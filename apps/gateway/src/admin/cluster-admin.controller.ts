import { Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthenticatedGuard, Roles } from '../auth/authenticated.guard';
import { ClusterAdminService, type ClusterNodeView, type ClusterView } from './cluster-admin.service';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin')
@UseGuards(AuthenticatedGuard)
@Roles('admin')
export class ClusterAdminController {
  constructor(private readonly cluster: ClusterAdminService) {}

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
}
