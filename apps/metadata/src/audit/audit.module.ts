import { Module } from '@nestjs/common';
import { AuditAppends } from './audit-appends';
import { AuditChainMonitor } from './audit-chain.monitor';
import { AuditChainRepository } from './audit-chain.repository';
import { AuditEventsProcessor } from './audit-events.processor';
import { AuditLogRepository } from './audit-log.repository';
import { AuditRetention } from './audit-retention';
import { AuditSealer } from './audit-sealer';
import { AuditVerifier } from './audit-verifier';

/** The audit log: appends, the sealer that chains them, verification and retention. */
@Module({
  providers: [
    AuditAppends,
    AuditChainMonitor,
    AuditChainRepository,
    AuditEventsProcessor,
    AuditLogRepository,
    AuditRetention,
    AuditSealer,
    AuditVerifier,
  ],
  exports: [AuditLogRepository, AuditChainMonitor, AuditRetention],
})
export class AuditModule {}
