import { Module } from '@nestjs/common';
import { NodeRegistryRepository } from './node-registry.repository';
import { NodeRegistryService } from './node-registry.service';

@Module({
  providers: [NodeRegistryRepository, NodeRegistryService],
  exports: [NodeRegistryService, NodeRegistryRepository],
})
export class NodeRegistryModule {}
