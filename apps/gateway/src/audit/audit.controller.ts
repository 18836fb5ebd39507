import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AuthenticatedGuard, Roles } from '../auth/authenticated.guard';
import { AdminAuditQuery, AuditPageResult, AuditQuery } from './audit.dto';
import { auditPageView, auditRequest, AuditService } from './audit.service';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1')
@UseGuards(AuthenticatedGuard)
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** The caller's own audit events, newest first, a page at a time. */
  @Get('audit')
  @ApiOkResponse({ type: AuditPageResult })
  async own(@Query() query: AuditQuery): Promise<AuditPageResult> {
    return auditPageView(await this.audit.listOwn(auditRequest(query)));
  }

  /** Everyone's audit events (or one user's), newest first, a page at a time: admins only. */
  @Get('admin/audit')
  @Roles('admin')
  @ApiOkResponse({ type: AuditPageResult })
  async all(@Query() query: AdminAuditQuery): Promise<AuditPageResult> {
    return auditPageView(await this.audit.listAll(auditRequest(query)));
  }
}
