import { Injectable, type NestMiddleware } from '@nestjs/common';
import { InvalidArgumentError } from '@cloudstore/contracts';
import { json, type NextFunction, type Request, type Response } from 'express';

const parseJson = json({ limit: '64kb', strict: true });

/** Our bodies are flat objects; deeper nesting only serves to exhaust the stack of what walks it later. */
export const MAX_JSON_DEPTH = 32;

/** How deeply `value` nests arrays and objects, without recursion (it must not overflow itself), stopping past `limit`. */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  let level: unknown[] = [value];
  for (let depth = 0; level.length > 0; depth += 1) {
    if (depth > limit) return true;
    const next: unknown[] = [];
    for (const item of level) {
      if (item !== null && typeof item === 'object') for (const child of Object.values(item)) next.push(child);
    }
    level = next;
  }
  return false;
}

/**
 * Parses JSON bodies of the routes that take them (auth, admin, the account, shares), at most 64 KiB and
 * MAX_JSON_DEPTH levels deep. Uploads are streamed raw, so
 * no parser is global; a malformed body becomes INVALID_ARGUMENT like every other bad input.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      parseJson(req, res, (error?: unknown) => {
        if (!error && jsonDepthExceeds(req.body, MAX_JSON_DEPTH))
          return reject(new InvalidArgumentError(`The request body nests deeper than ${MAX_JSON_DEPTH} levels`));
        if (!error) return resolve();
        const status = (error as { status?: number }).status;
        reject(
          new InvalidArgumentError(
            status === 413 ? 'The request body is larger than 64 KiB' : 'The request body is not valid JSON',
          ),
        );
      });
    });
    next();
  }
}
