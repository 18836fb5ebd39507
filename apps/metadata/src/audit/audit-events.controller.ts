import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { auditApi } from '@cloudstore/contracts';
import { AllowedCallers, ForUser, verifiedUser } from '@cloudstore/grpc';
import { AuditEventsService } from './audit-events.service';

/** Reading the audit log, for the gateway only: the token's user's own events, or everyone's for admins. */
@Controller()
@auditApi.AuditLogServiceControllerMethods()
export class AuditEventsController implements auditApi.AuditLogServiceController {
  constructor(private readonly events: AuditEventsService) {}

  @AllowedCallers('gateway')
  @ForUser()
  listOwnEvents(request: auditApi.ListAuditEventsRequest, metadata?: Metadata): Promise<auditApi.ListAuditEventsResponse> {
    return this.events.listOwn(request, verifiedUser(metadata).userId);
  }

  @AllowedCallers('gateway')
  @ForUser({ role: 'admin' })
  listAllEvents(request: auditApi.ListAuditEventsRequest): Promise<auditApi.ListAuditEventsResponse> {
    return this.events.listAll(request);
  }
}
