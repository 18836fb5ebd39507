import { Injectable, type NestMiddleware } from '@nestjs/common';
import { InvalidArgumentError } from '@cloudstore/contracts';
import { json, type NextFunction, type Request, type Response } from 'express';

const parseJson = json({ limit: '64kb', strict: true });

/**
 * Parses JSON bodies of the routes that take them (auth, admin). Uploads are streamed raw, so
 * no parser is global; a malformed body becomes INVALID_ARGUMENT like every other bad input.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      parseJson(req, res, (error?: unknown) => {
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
