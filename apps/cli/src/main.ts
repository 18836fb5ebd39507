import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './cli-program';

/** The CLI's version, from its package (dist/apps/cli/src → apps/cli/package.json). */
function version(): string {
  try {
    return (
      JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'apps', 'cli', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return 'unknown';
  }
}

void runCli(process.argv, version()).then((code) => {
  process.exitCode = code;
});
