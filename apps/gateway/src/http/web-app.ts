import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Response } from 'express';
import type { Logger } from '@cloudstore/observability';

/** The web app's build (apps/web, `npm run build:web`), beside the gateway's in dist/. */
export const WEB_ROOT = resolve(__dirname, '..', '..', '..', '..', 'web');

/** The paths of the web app: its page and its hashed files. */
export function isWebAppPath(path: string): boolean {
  return path === '/' || path === '/index.html' || path.startsWith('/assets/');
}

/**
 * Serves the web app at `/` when it was built: the page never cached (it names the current
 * files), the hashed files under /assets for a year. Routes of the API come first only by path:
 * the app's files live at `/`, `/index.html` and `/assets/` alone.
 */
export function serveWebApp(app: NestExpressApplication, logger: Logger, root = WEB_ROOT): void {
  if (!existsSync(join(root, 'index.html'))) {
    logger.info({ root }, 'the web app is not built (npm run build:web): not served');
    return;
  }
  app.useStaticAssets(root, {
    index: 'index.html',
    redirect: false,
    setHeaders: (res: Response, path: string) => {
      res.setHeader('Cache-Control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}
