import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Caller } from '@cloudstore/access-tokens';
import type { Request } from 'express';
import { AuthenticatedGuard, CurrentCaller, Roles } from '../auth/authenticated.guard';
import { RequestOrigins } from '../auth/request-origins';
import { ErasureResultDto } from '../account/account.dto';
import { AccountErasureService } from '../account/account-erasure.service';
import { ListUsersQuery, UpdateUserBody } from './admin.dto';
import { AdminUsersService, type UserView } from './admin-users.service';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin/users')
@UseGuards(AuthenticatedGuard)
@Roles('admin')
export class AdminUsersController {
  constructor(
    private readonly users: AdminUsersService,
    private readonly erasure: AccountErasureService,
    private readonly origins: RequestOrigins,
  ) {}

  @Get()
  list(@CurrentCaller() caller: Caller, @Query() query: ListUsersQuery): Promise<{ users: UserView[]; total_count: number }> {
    return this.users.list(caller, query.limit ?? 0, query.offset ?? 0, query.filter ?? '');
  }

  @Patch(':id')
  update(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @Body() body: UpdateUserBody,
    @Req() req: Request,
  ): Promise<UserView> {
    const patch = { role: body.role, active: body.active, quotaBytes: body.quota_bytes };
    return this.users.update(caller, id, patch, this.origins.http(req));
  }

  /** GDPR erasure of another user's account, as DELETE /v1/me does; audited as the admin's act. */
  @Delete(':id')
  @HttpCode(200)
  @ApiOkResponse({ type: ErasureResultDto })
  erase(@CurrentCaller() caller: Caller, @Param('id') id: string, @Req() req: Request): Promise<ErasureResultDto> {
    return this.erasure.eraseByAdmin(caller, id, this.origins.http(req));
  }
}
