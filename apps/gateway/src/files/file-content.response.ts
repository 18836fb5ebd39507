import type { filesApi } from '@cloudstore/contracts';
import type { Request, Response } from 'express';
import { sendBody } from '../http/stream-response';
import { contentDisposition, parseRange } from './byte-range';
import type { ByteRange, Download } from './download.service';

/**
 * Answers a GET of a file's bytes, however the file was reached (its owner, a grantee, a link),
 * or of a version's:
 * If-None-Match (304), Range (206, or 416), and the first verified bytes before the headers, so
 * that a file that cannot be read is an error answer, not a cut body.
 */
/**
 * The stored type, unless a page would run or apply it (a script, a style sheet): those are served
 * as bytes, so that no uploaded file can become a script or style of this origin (the web app's
 * CSP allows its own origin's).
 */
export function servedContentType(contentType: string): string {
  const base = contentType.split(';')[0]?.trim() ?? '';
  return !base || /script|css/i.test(base) ? 'application/octet-stream' : contentType;
}

export async function sendFileContent(
  req: Request,
  res: Response,
  file: Pick<filesApi.FileRecord, 'sha256' | 'contentType' | 'filename' | 'uploadedAt' | 'size'>,
  open: (range: ByteRange | undefined) => Promise<Download>,
): Promise<void> {
  const etag = `"${file.sha256}"`;
  const common = {
    etag,
    'accept-ranges': 'bytes',
    'content-type': servedContentType(file.contentType),
    'content-disposition': contentDisposition(file.filename),
    'last-modified': new Date(file.uploadedAt * 1000).toUTCString(),
    'cache-control': 'private, no-cache',
  };
  if (
    req
      .header('if-none-match')
      ?.split(',')
      .some((tag) => tag.trim() === etag)
  ) {
    res.status(304).set(common).end();
    return;
  }
  const range = parseRange(req.header('range'), file.size);
  if (range.kind === 'unsatisfiable') {
    res
      .status(416)
      .set({ ...common, 'content-range': `bytes */${file.size}` })
      .end();
    return;
  }
  const download = await open(range.kind === 'partial' ? range.range : undefined);
  const first = await download.body.next();
  const span = range.kind === 'partial' ? range.range : { start: 0, end: file.size - 1 };
  res.status(range.kind === 'partial' ? 206 : 200).set({
    ...common,
    'content-length': String(Math.max(0, span.end - span.start + 1)),
    ...(range.kind === 'partial' ? { 'content-range': `bytes ${span.start}-${span.end}/${file.size}` } : {}),
  });
  await sendBody(res, first, download.body);
}
