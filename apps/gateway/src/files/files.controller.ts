import { Controller, Delete, Get, HttpCode, Param, Put, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Caller } from '@cloudstore/access-tokens';
import type { Request, Response } from 'express';
import { AuthenticatedGuard, CurrentCaller } from '../auth/authenticated.guard';
import { RequestOrigins } from '../auth/request-origins';
import { requestBody } from '../http/request-body';
import { DownloadService } from './download.service';
import { sendFileContent } from './file-content.response';
import { FileInfoResult, ListFilesQuery, UploadQuery } from './files.dto';
import { FilesService, fileView, type FileView, type QuotaView, quotaView } from './files.service';
import { UploadService } from './upload.service';

@ApiTags('files')
@ApiBearerAuth()
@Controller('v1')
@UseGuards(AuthenticatedGuard)
export class FilesController {
  constructor(
    private readonly uploads: UploadService,
    private readonly downloads: DownloadService,
    private readonly files: FilesService,
    private readonly origins: RequestOrigins,
  ) {}

  /** The raw request body is the file, streamed; answers once it is committed. */
  @Put('files')
  @HttpCode(201)
  @ApiOkResponse({ type: FileInfoResult })
  async upload(@CurrentCaller() caller: Caller, @Query() query: UploadQuery, @Req() req: Request): Promise<FileView> {
    const length = req.header('content-length');
    const file = await this.uploads.upload(requestBody(req), {
      caller,
      filename: query.filename,
      declaredSize: length !== undefined && /^\d+$/.test(length) ? Number(length) : -1,
      contentType: req.header('content-type') ?? 'application/octet-stream',
      fileId: query.file_id ?? '',
      origin: this.origins.http(req),
    });
    return fileView(file, true);
  }

  @Get('files')
  async list(
    @CurrentCaller() caller: Caller,
    @Query() query: ListFilesQuery,
  ): Promise<{ files: FileView[]; total_count: number; next_cursor?: string }> {
    const result = await this.files.list(caller, {
      limit: query.limit ?? 0,
      offset: query.offset ?? 0,
      filter: query.filter ?? '',
      after: query.after ?? '',
    });
    return {
      files: result.files.map((f) => fileView(f)),
      total_count: result.totalCount,
      ...(result.nextCursor ? { next_cursor: result.nextCursor } : {}),
    };
  }

  @Get('files/:fileId')
  @ApiOkResponse({ type: FileInfoResult })
  async get(@CurrentCaller() caller: Caller, @Param('fileId') fileId: string): Promise<FileView> {
    return fileView(await this.files.get(caller, fileId), true);
  }

  /** The bytes, streamed and verified; honours Range (206) and If-None-Match (304). */
  @Get('files/:fileId/content')
  async content(
    @CurrentCaller() caller: Caller,
    @Param('fileId') fileId: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const file = await this.files.get(caller, fileId);
    await sendFileContent(req, res, file, (range) => this.downloads.open(caller, fileId, range, this.origins.http(req)));
  }

  @Delete('files/:fileId')
  async delete(
    @CurrentCaller() caller: Caller,
    @Param('fileId') fileId: string,
    @Req() req: Request,
  ): Promise<{ success: true; freed_bytes: number }> {
    return { success: true, freed_bytes: await this.files.delete(caller, fileId, this.origins.http(req)) };
  }

  @Get('quota')
  async quota(@CurrentCaller() caller: Caller): Promise<QuotaView> {
    return quotaView(await this.files.quota(caller));
  }
}
