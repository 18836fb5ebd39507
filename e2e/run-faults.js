#!/usr/bin/env node
// npm run test:faults [-- --repeat N] [jest options, e.g. --randomize]: the fault suite
// (e2e/src/faults.e2e-spec.ts) with every scenario run N times against one cluster (default 1,
// as `npm test` runs it).
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const args = process.argv.slice(2);
const at = args.indexOf('--repeat');
const repeat = at >= 0 ? Number(args[at + 1]) : 1;
const jestOptions = at >= 0 ? [...args.slice(0, at), ...args.slice(at + 2)] : args;
if (!Number.isInteger(repeat) || repeat < 1) {
  process.stderr.write('test:faults: --repeat takes a whole number from 1\n');
  process.exit(2);
}
const root = join(__dirname, '..');
const result = spawnSync(
  process.execPath,
  [require.resolve('jest/bin/jest'), '-c', 'e2e/jest.config.js', '--runInBand', 'e2e/src/faults.e2e-spec.ts', ...jestOptions],
  { cwd: root, stdio: 'inherit', env: { ...process.env, FAULT_REPEAT: String(repeat) } },
);
process.exit(result.status ?? 1);
