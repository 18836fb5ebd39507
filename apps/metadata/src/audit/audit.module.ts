import { Module } from '@nestjs/common';
import { AuditAppends } from './audit-appends';
import { AuditChainMonitor } from './audit-chain.monitor';
import { AuditChainRepository } from './audit-chain.repository';
import { AuditEventsController } from './audit-events.controller';
import { AuditEventsProcessor } from './audit-events.processor';
import { AuditEventsRepository } from './audit-events.repository';
import { AuditEventsService } from './audit-events.service';
import { AuditLogRepository } from './audit-log.repository';
import { AuditRetention } from './audit-retention';
import { AuditSealer } from './audit-sealer';
import { AuditVerifier } from './audit-verifier';

/** The audit log: appends, the sealer that chains them, verification, retention, and reading it. */
@Module({
  controllers: [AuditEventsController],
  providers: [
    AuditAppends,
    AuditChainMonitor,
    AuditChainRepository,
    AuditEventsProcessor,
    AuditEventsRepository,
    AuditEventsService,
    AuditLogRepository,
    AuditRetention,
    AuditSealer,
    AuditVerifier,
  ],
  exports: [AuditLogRepository, AuditChainMonitor, AuditRetention],
})
export class AuditModule {}
