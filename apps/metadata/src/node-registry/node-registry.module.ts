import { Module } from '@nestjs/common';
import { NodeRegistryController } from './node-registry.controller';
import { NodeRegistryRepository } from './node-registry.repository';
import { NodeRegistryService } from './node-registry.service';

@Module({
  controllers: [NodeRegistryController],
  providers: [NodeRegistryRepository, NodeRegistryService],
  exports: [NodeRegistryService, NodeRegistryRepository],
})
export class NodeRegistryModule {}
