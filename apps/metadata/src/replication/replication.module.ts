import { Module } from '@nestjs/common';
import { NodeRegistryController } from '../node-registry/node-registry.controller';
import { AuditModule } from '../audit/audit.module';
import { NodeRegistryModule } from '../node-registry/node-registry.module';
import { ClusterStatusService } from './cluster-status.service';
import { NodeInventoryService } from './node-inventory.service';
import { RebalancerService } from './rebalancer.service';
import { ReplicationCheckService } from './replication-check.service';
import { ReplicationMetrics } from './replication.metrics';
import { ReplicationProcessors } from './replication.processors';
import { ReplicationRepository } from './replication.repository';
import { ReplicationService } from './replication.service';
import { ScrubberService } from './scrubber.service';

/** Self-healing: repair and re-replication, scrubbing, node inventories, drains, rebalancing, status. */
@Module({
  imports: [AuditModule, NodeRegistryModule],
  // The registry's RPCs include the cluster status and drains, which live here.
  controllers: [NodeRegistryController],
  providers: [
    ClusterStatusService,
    NodeInventoryService,
    RebalancerService,
    ReplicationCheckService,
    ReplicationMetrics,
    ReplicationProcessors,
    ReplicationRepository,
    ReplicationService,
    ScrubberService,
  ],
})
export class ReplicationModule {}
