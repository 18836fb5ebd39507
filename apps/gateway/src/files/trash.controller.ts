import { Controller, Delete, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Caller } from '@cloudstore/access-tokens';
import type { Request } from 'express';
import { AuthenticatedGuard, CurrentCaller } from '../auth/authenticated.guard';
import { RequestOrigins } from '../auth/request-origins';
import { FileInfoResult, TrashQuery } from './files.dto';
import { FilesService, fileView, type FileView } from './files.service';

/**
 * The caller's trash: deleted files, restorable until TRASH_RETENTION_SECONDS have passed, when
 * they are purged (or earlier, at the owner's request).
 */
@ApiTags('files')
@ApiBearerAuth()
@Controller('v1/trash')
@UseGuards(AuthenticatedGuard)
export class TrashController {
  constructor(
    private readonly files: FilesService,
    private readonly origins: RequestOrigins,
  ) {}

  /** Most recently deleted first; each file says when it will be purged. */
  @Get()
  async list(@CurrentCaller() caller: Caller, @Query() query: TrashQuery): Promise<{ files: FileView[]; total_count: number }> {
    const result = await this.files.listTrash(caller, query.limit ?? 0, query.offset ?? 0);
    return { files: result.files.map((f) => fileView(f)), total_count: result.totalCount };
  }

  /** Back among the files, charged to the quota again (413 QUOTA_EXCEEDED when it no longer fits). */
  @Post(':fileId/restore')
  @HttpCode(200)
  @ApiOkResponse({ type: FileInfoResult })
  async restore(@CurrentCaller() caller: Caller, @Param('fileId') fileId: string, @Req() req: Request): Promise<FileView> {
    return fileView(await this.files.restore(caller, fileId, this.origins.http(req)), true);
  }

  /** Gone for good: the record now, the chunks from the nodes right after. */
  @Delete(':fileId')
  async purge(
    @CurrentCaller() caller: Caller,
    @Param('fileId') fileId: string,
    @Req() req: Request,
  ): Promise<{ success: true; purged_bytes: number }> {
    return { success: true, purged_bytes: await this.files.purge(caller, fileId, this.origins.http(req)) };
  }
}
