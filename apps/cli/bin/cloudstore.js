#!/usr/bin/env node
// The `cloudstore` command: the CLI built into dist/ (`npm ci` builds it; `npm run build` too).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const main = join(__dirname, '..', '..', '..', 'dist', 'apps', 'cli', 'src', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('cloudstore: the CLI is not built; run `npm run build:cli` in the repository\n');
  process.exit(2);
}
require(main);
