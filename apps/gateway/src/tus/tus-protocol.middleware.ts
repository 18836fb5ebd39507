import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { TUS_VERSION, TusRefusal } from './tus-protocol';

/** Methods a client behind a proxy that passes only GET and POST may ask for with X-HTTP-Method-Override. */
const OVERRIDABLE = new Set(['PATCH', 'DELETE', 'HEAD']);

/**
 * What every tus route shares: each answer carries Tus-Resumable; a request other than OPTIONS
 * must carry the version served (412 with Tus-Version otherwise); a POST may stand for another
 * method by X-HTTP-Method-Override.
 */
@Injectable()
export class TusProtocolMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    res.setHeader('Tus-Resumable', TUS_VERSION);
    const override = req.header('x-http-method-override')?.toUpperCase();
    if (req.method === 'POST' && override && OVERRIDABLE.has(override)) req.method = override;
    if (req.method !== 'OPTIONS' && req.header('tus-resumable') !== TUS_VERSION) {
      res.setHeader('Tus-Version', TUS_VERSION);
      throw new TusRefusal('INVALID_ARGUMENT', 412, `This server speaks tus ${TUS_VERSION}: send Tus-Resumable: ${TUS_VERSION}`);
    }
    next();
  }
}
