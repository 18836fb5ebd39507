import { Module } from '@nestjs/common';
import { AuditEventsController } from './audit-events.controller';
import { AuditEventsRepository } from './audit-events.repository';
import { AuditEventsService } from './audit-events.service';
import { AuditEventsProcessor } from './audit-events.processor';
import { AuditLogRepository } from './audit-log.repository';

@Module({
  controllers: [AuditEventsController],
  providers: [AuditLogRepository, AuditEventsProcessor, AuditEventsRepository, AuditEventsService],
  exports: [AuditLogRepository],
})
export class AuditModule {}
