import { Body, Controller, Delete, Get, HttpCode, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Caller } from '@cloudstore/access-tokens';
import type { Request, Response } from 'express';
import { AuthenticatedGuard, CurrentCaller } from '../auth/authenticated.guard';
import { RequestOrigins } from '../auth/request-origins';
import { contentDisposition } from '../files/byte-range';
import { sendBody } from '../http/stream-response';
import { DeleteAccountBody, ErasureResultDto } from './account.dto';
import { AccountErasureService } from './account-erasure.service';
import { UserExportService } from './user-export.service';

/** The caller's own account as a whole: GDPR export and erasure. */
@ApiTags('account')
@ApiBearerAuth()
@Controller('v1/me')
@UseGuards(AuthenticatedGuard)
export class AccountController {
  constructor(
    private readonly exports: UserExportService,
    private readonly erasure: AccountErasureService,
    private readonly origins: RequestOrigins,
  ) {}

  /** A tar archive, streamed: every live file under files/, and cloudstore-export.json. */
  @Get('export')
  @ApiProduces('application/x-tar')
  async export(@CurrentCaller() caller: Caller, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { filename, archive } = await this.exports.open(caller, this.origins.http(req));
    // The first bytes come before the headers: an export that cannot start is an error answer, not a cut archive.
    const first = await archive.next();
    res.status(200).set({
      'content-type': 'application/x-tar',
      'content-disposition': contentDisposition(filename),
      'cache-control': 'no-store',
    });
    await sendBody(res, first, archive);
  }

  /** Erases the account for good, with its password confirmed. */
  @Delete()
  @HttpCode(200)
  @ApiOkResponse({ type: ErasureResultDto })
  erase(@CurrentCaller() caller: Caller, @Body() body: DeleteAccountBody, @Req() req: Request): Promise<ErasureResultDto> {
    return this.erasure.eraseOwn(caller, body.password, this.origins.http(req));
  }
}
