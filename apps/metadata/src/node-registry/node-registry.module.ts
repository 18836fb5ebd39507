import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { NodeRegistryRepository } from './node-registry.repository';
import { NodeRegistryService } from './node-registry.service';

@Module({
  imports: [AuditModule],
  providers: [NodeRegistryRepository, NodeRegistryService],
  exports: [NodeRegistryService, NodeRegistryRepository],
})
export class NodeRegistryModule {}
