import { Module } from '@nestjs/common';
import { AuditEventsProcessor } from './audit-events.processor';
import { AuditLogRepository } from './audit-log.repository';

@Module({
  providers: [AuditLogRepository, AuditEventsProcessor],
  exports: [AuditLogRepository],
})
export class AuditModule {}
