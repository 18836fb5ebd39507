/**
 * The cloudstore SDK: `CloudStorageClient`, the API's calls in TypeScript, over gRPC (and REST
 * for download links), with streamed, resumable uploads and verified downloads.
 *
 * @packageDocumentation
 */
export * from './cloud-storage-client';
export { CloudStorageError, ERROR_CODES, type ErrorCode } from './errors';
export type { DownloadStream, ProgressCallback, UploadSource } from './file-transfers';
