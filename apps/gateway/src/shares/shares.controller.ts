import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Caller } from '@cloudstore/access-tokens';
import type { Request } from 'express';
import { AuthenticatedGuard, CurrentCaller } from '../auth/authenticated.guard';
import { RequestOrigins } from '../auth/request-origins';
import { SharedFileResult, SharedWithMeQuery, ShareFileBody, ShareResult } from './shares.dto';
import { SharesService, sharedFileView, type SharedFileView, shareView, type ShareView } from './shares.service';

/** Sharing a file with other users (read only), and the files others shared with the caller. */
@ApiTags('sharing')
@ApiBearerAuth()
@Controller('v1')
@UseGuards(AuthenticatedGuard)
export class SharesController {
  constructor(
    private readonly shares: SharesService,
    private readonly origins: RequestOrigins,
  ) {}

  /** The owner only; granting again updates the permission. */
  @Post('files/:fileId/shares')
  @HttpCode(201)
  @ApiCreatedResponse({ type: ShareResult })
  async share(
    @CurrentCaller() caller: Caller,
    @Param('fileId') fileId: string,
    @Body() body: ShareFileBody,
    @Req() req: Request,
  ): Promise<ShareView> {
    const share = await this.shares.share(
      caller,
      { fileId, username: body.username, permission: body.permission ?? 'read' },
      this.origins.http(req),
    );
    return shareView(share);
  }

  @Get('files/:fileId/shares')
  @ApiOkResponse({ type: [ShareResult] })
  async list(@Param('fileId') fileId: string): Promise<{ shares: ShareView[] }> {
    return { shares: (await this.shares.ofFile(fileId)).map(shareView) };
  }

  /** Access ends at once. */
  @Delete('files/:fileId/shares/:username')
  async unshare(
    @Param('fileId') fileId: string,
    @Param('username') username: string,
    @Req() req: Request,
  ): Promise<{ success: true }> {
    await this.shares.unshare(fileId, username, this.origins.http(req));
    return { success: true };
  }

  /** Most recently shared first. */
  @Get('shared-with-me')
  @ApiOkResponse({ type: [SharedFileResult] })
  async sharedWithMe(@Query() query: SharedWithMeQuery): Promise<{ files: SharedFileView[]; total_count: number }> {
    const page = await this.shares.sharedWithMe(query.limit ?? 0, query.offset ?? 0);
    return { files: page.shares.map(sharedFileView), total_count: page.totalCount };
  }
}
