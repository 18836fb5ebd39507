#!/usr/bin/env node
// The `cloudstore` command: the CLI built into dist/, built here first if it is not yet
// (`npm run build:cli`, a second or two; `npm run build` builds it too).
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..', '..');
const main = join(root, 'dist', 'apps', 'cli', 'src', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('cloudstore: building the CLI (npm run build:cli)\n');
  try {
    execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build:cli', '--silent'], {
      cwd: root,
      stdio: 'inherit',
    });
  } catch {
    process.stderr.write('cloudstore: the CLI could not be built; run `npm run build:cli` in the repository\n');
    process.exit(2);
  }
}
require(main);
