import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBasicAuth, ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { DomainError } from '@cloudstore/contracts';
import type { Request, Response } from 'express';
import { AuthenticatedGuard } from '../auth/authenticated.guard';
import { requestBaseUrl } from '../http/request-body';
import { RequestOrigins } from '../auth/request-origins';
import { DownloadService } from '../files/download.service';
import { sendFileContent } from '../files/file-content.response';
import { CreateLinkBody, LinkResult } from './download-links.dto';
import { DownloadLinksService, type LinkView } from './download-links.service';

/** The owner's links of a file: make (the URL is shown this once), list, revoke. */
@ApiTags('links')
@ApiBearerAuth()
@Controller('v1/files/:fileId/links')
@UseGuards(AuthenticatedGuard)
export class DownloadLinksController {
  constructor(
    private readonly links: DownloadLinksService,
    private readonly origins: RequestOrigins,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiCreatedResponse({ type: LinkResult })
  create(@Param('fileId') fileId: string, @Body() body: CreateLinkBody, @Req() req: Request): Promise<LinkView> {
    return this.links.create(
      fileId,
      { expiresInSeconds: body.expires_in_seconds, ...(body.password !== undefined ? { password: body.password } : {}) },
      this.origins.http(req),
      requestBaseUrl(req),
    );
  }

  /** The links that have not expired, newest first. */
  @Get()
  @ApiOkResponse({ type: [LinkResult] })
  async list(@Param('fileId') fileId: string): Promise<{ links: LinkView[] }> {
    return { links: await this.links.list(fileId) };
  }

  /** At once: the next request with it finds nothing. */
  @Delete(':linkId')
  async revoke(
    @Param('fileId') fileId: string,
    @Param('linkId') linkId: string,
    @Req() req: Request,
  ): Promise<{ success: true }> {
    await this.links.revoke(fileId, linkId, this.origins.http(req));
    return { success: true };
  }
}

/**
 * The password a link's visitor gives: HTTP Basic (any user name; what a browser asks for),
 * else the `X-Link-Password` header, else `?password=` (for the simplest clients; it ends up in
 * browser history and proxies' logs, so prefer the others).
 */
function linkPassword(req: Request): string | undefined {
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.header('authorization') ?? '');
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) return decoded.slice(colon + 1);
  }
  const header = req.header('x-link-password');
  if (header !== undefined) return header;
  return typeof req.query['password'] === 'string' ? req.query['password'] : undefined;
}

/** A link, opened by whoever has its URL: no token. */
@ApiTags('links')
@ApiBasicAuth()
@Controller('v1/links')
export class LinkDownloadController {
  constructor(
    private readonly links: DownloadLinksService,
    private readonly downloads: DownloadService,
    private readonly origins: RequestOrigins,
  ) {}

  /** The file's bytes, as `GET /v1/files/{id}/content` answers them; 401 with a Basic challenge for a link's password. */
  @Get(':secret')
  async download(@Param('secret') secret: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const origin = this.origins.http(req);
    try {
      const link = await this.links.open(secret, linkPassword(req), origin.clientAddress);
      await sendFileContent(req, res, link.file, (range) => this.downloads.openLink(link.tokenSha256, range, origin));
    } catch (error) {
      if (error instanceof DomainError && error.code === 'INVALID_CREDENTIALS')
        res.setHeader('www-authenticate', 'Basic realm="cloudstore download link", charset="UTF-8"');
      throw error;
    }
  }
}
