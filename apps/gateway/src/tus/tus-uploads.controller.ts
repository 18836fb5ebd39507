import { Controller, Delete, Head, HttpCode, Inject, Options, Param, Patch, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import type { Caller } from '@cloudstore/access-tokens';
import type { GatewayConfig } from '@cloudstore/config';
import { InvalidArgumentError } from '@cloudstore/contracts';
import type { Request, Response } from 'express';
import { AuthenticatedGuard, CurrentCaller } from '../auth/authenticated.guard';
import { RequestOrigins } from '../auth/request-origins';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { requestBaseUrl, requestBody } from '../http/request-body';
import {
  byteCountHeader,
  httpDate,
  parseUploadChecksum,
  parseUploadMetadata,
  TUS_CHECKSUM_ALGORITHMS,
  TUS_CONTENT_TYPE,
  TUS_EXTENSIONS,
  TUS_VERSION,
  TusRefusal,
} from './tus-protocol';
import { type TusUploadRequest, type TusUploadState, TusUploadsService } from './tus-uploads.service';

/** The header that names the file an upload makes (an addition to the protocol, which has none). */
const FILE_ID_HEADER = 'X-File-Id';

/** Whether the request carries a body (a tus request's length is known, or it is chunked). */
function hasBody(req: Request): boolean {
  return Number(req.header('content-length') ?? 0) > 0 || req.header('transfer-encoding') !== undefined;
}

/** A body of bytes to append must be declared as such (415 otherwise). */
function requireTusContentType(req: Request): void {
  if ((req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() !== TUS_CONTENT_TYPE)
    throw new TusRefusal('INVALID_ARGUMENT', 415, `The bytes of an upload are sent as ${TUS_CONTENT_TYPE}`);
}

function contentLength(req: Request): number | undefined {
  const length = req.header('content-length');
  return length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
}

/** The headers every answer about an upload carries; Upload-Expires while it is unfinished. */
function sendState(res: Response, state: TusUploadState): void {
  res.setHeader('Upload-Offset', String(state.offset));
  res.setHeader(FILE_ID_HEADER, state.fileId);
  if (state.offset < state.length) res.setHeader('Upload-Expires', httpDate(state.expiresAt));
}

/** What the server supports: asked without a token (tus clients and browsers ask first). */
@ApiTags('uploads')
@Controller('v1/uploads')
export class TusDiscoveryController {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  @Options()
  @HttpCode(204)
  discover(@Res({ passthrough: true }) res: Response): void {
    res.setHeader('Tus-Version', TUS_VERSION);
    res.setHeader('Tus-Extension', TUS_EXTENSIONS.join(','));
    res.setHeader('Tus-Max-Size', String(this.config.MAX_FILE_SIZE_BYTES));
    res.setHeader('Tus-Checksum-Algorithm', TUS_CHECKSUM_ALGORITHMS.join(','));
  }

  @Options(':uploadId')
  @HttpCode(204)
  discoverUpload(@Res({ passthrough: true }) res: Response): void {
    this.discover(res);
  }
}

/**
 * tus 1.0 resumable uploads (https://tus.io/protocols/resumable-upload): create (optionally with
 * the first bytes), ask where an upload stands, append, terminate. The upload is the caller's:
 * anyone else's, or an unknown or expired one, is FILE_NOT_FOUND (404).
 */
@ApiTags('uploads')
@ApiBearerAuth()
@ApiHeader({ name: 'Tus-Resumable', required: true, description: TUS_VERSION })
@Controller('v1/uploads')
@UseGuards(AuthenticatedGuard)
export class TusUploadsController {
  constructor(
    private readonly tus: TusUploadsService,
    private readonly origins: RequestOrigins,
  ) {}

  /** Creation: `Upload-Length` reserved whole, `Upload-Metadata` with `filename` (and `filetype`, `file_id` for a new version). */
  @Post()
  @HttpCode(201)
  async create(@CurrentCaller() caller: Caller, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    if (req.header('upload-defer-length') !== undefined)
      throw new InvalidArgumentError('Upload-Defer-Length is not supported: send Upload-Length');
    const length = byteCountHeader('Upload-Length', req.header('upload-length'));
    const metadata = parseUploadMetadata(req.header('upload-metadata'));
    const withBytes = hasBody(req);
    if (withBytes) requireTusContentType(req);
    const checksum = parseUploadChecksum(req.header('upload-checksum'));
    const state = await this.tus.create(
      caller,
      { length, metadata },
      this.origins.http(req),
      withBytes ? this.bytesOf(req, checksum) : undefined,
    );
    res.setHeader('Location', `${requestBaseUrl(req)}/v1/uploads/${state.uploadId}`);
    sendState(res, state);
  }

  @Head(':uploadId')
  @HttpCode(200)
  async head(
    @CurrentCaller() caller: Caller,
    @Param('uploadId') uploadId: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const state = await this.tus.state(caller, uploadId, this.origins.http(req));
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Upload-Length', String(state.length));
    res.setHeader('Upload-Metadata', `filename ${Buffer.from(state.filename).toString('base64')}`);
    sendState(res, state);
  }

  /** Appends the body at `Upload-Offset` (409 if the upload stands elsewhere); answers the new offset. */
  @Patch(':uploadId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Upload-Offset: where the upload stands now' })
  async append(
    @CurrentCaller() caller: Caller,
    @Param('uploadId') uploadId: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    requireTusContentType(req);
    const offset = byteCountHeader('Upload-Offset', req.header('upload-offset'));
    const bytes = this.bytesOf(req, parseUploadChecksum(req.header('upload-checksum')));
    sendState(res, await this.tus.append(caller, uploadId, { ...bytes, offset }));
  }

  /** The request's body, to append; it can be stopped (the socket closed) when another request asks for the upload. */
  private bytesOf(req: Request, checksum: Buffer | undefined): Omit<TusUploadRequest, 'offset'> {
    const length = contentLength(req);
    return {
      body: requestBody(req),
      ...(length !== undefined ? { length } : {}),
      ...(checksum ? { checksum } : {}),
      origin: this.origins.http(req),
      cancel: () => req.destroy(),
    };
  }

  /** Termination: the upload is dropped, its reservation released and its chunks collected. */
  @Delete(':uploadId')
  @HttpCode(204)
  async terminate(@CurrentCaller() caller: Caller, @Param('uploadId') uploadId: string, @Req() req: Request): Promise<void> {
    await this.tus.terminate(caller, uploadId, this.origins.http(req));
  }
}
