import { InvalidArgumentError } from './errors';

/** Items a listing answers when the request names no limit (a gRPC 0, a REST query without `limit`). */
export const DEFAULT_PAGE_SIZE = 50;
/** The most items one page holds; a larger limit is cut to this. */
export const MAX_PAGE_SIZE = 1000;

export interface Page {
  readonly limit: number;
  readonly offset: number;
}

/**
 * The page a listing request asks for, in the one place that applies the default and the cap.
 * 0 or no limit is {@link DEFAULT_PAGE_SIZE}, a larger one is cut to {@link MAX_PAGE_SIZE}; a
 * negative limit or offset is INVALID_ARGUMENT.
 */
export function pageOf(limit: number | undefined, offset: number | undefined): Page {
  const wanted = limit ?? 0;
  const from = offset ?? 0;
  if (wanted < 0 || from < 0) throw new InvalidArgumentError('limit and offset must not be negative');
  return { limit: wanted === 0 ? DEFAULT_PAGE_SIZE : Math.min(wanted, MAX_PAGE_SIZE), offset: from };
}
