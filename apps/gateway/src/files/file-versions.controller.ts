import { Controller, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Caller } from '@cloudstore/access-tokens';
import { FileNotFoundError } from '@cloudstore/contracts';
import type { Request, Response } from 'express';
import { AuthenticatedGuard, CurrentCaller } from '../auth/authenticated.guard';
import { RequestOrigins } from '../auth/request-origins';
import { DownloadService } from './download.service';
import { sendFileContent } from './file-content.response';
import { FileInfoResult, VersionResult } from './files.dto';
import { FilesService, fileView, type FileView, versionView, type VersionView } from './files.service';

/**
 * The versions of the caller's own file: an upload naming the file's id (`PUT /v1/files?file_id=`)
 * makes its new version and keeps the one before (VERSIONS_KEPT). A version is named by its
 * `version_id`: its number.
 */
@ApiTags('files')
@ApiBearerAuth()
@Controller('v1/files/:fileId/versions')
@UseGuards(AuthenticatedGuard)
export class FileVersionsController {
  constructor(
    private readonly files: FilesService,
    private readonly downloads: DownloadService,
    private readonly origins: RequestOrigins,
  ) {}

  /** The content now (`current`) and the earlier versions, newest first. */
  @Get()
  @ApiOkResponse({ type: [VersionResult] })
  async list(@Param('fileId') fileId: string): Promise<{ versions: VersionView[] }> {
    return { versions: (await this.files.versions(fileId)).map(versionView) };
  }

  /** A version's bytes, as `GET /v1/files/{id}/content` answers them. */
  @Get(':versionId/content')
  async content(
    @CurrentCaller() caller: Caller,
    @Param('fileId') fileId: string,
    @Param('versionId') versionId: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const version = (await this.files.versions(fileId)).find((v) => v.versionId === versionId);
    if (!version) throw new FileNotFoundError('The file has no such version');
    const origin = this.origins.http(req);
    await sendFileContent(req, res, version, (range) => this.downloads.open(caller, fileId, range, origin, versionId));
  }

  /** The version's content becomes the file's again, as its next version (the current one is kept as a version). */
  @Post(':versionId/restore')
  @HttpCode(200)
  @ApiOkResponse({ type: FileInfoResult })
  async restore(@Param('fileId') fileId: string, @Param('versionId') versionId: string, @Req() req: Request): Promise<FileView> {
    return fileView(await this.files.restoreVersion(fileId, versionId, this.origins.http(req)), true);
  }
}
