// Before the unit and integration tests: build dist/ (fast, SWC), then make sure a PostgreSQL and
// a Redis answer, running embedded ones for the whole run where none does (see test-dependencies.ts).
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async function globalSetup() {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: __dirname, stdio: 'inherit' });
  const { startTestDependencies } = require(join(__dirname, 'dist/tools/local-cluster/src/test-dependencies.js'));
  globalThis.stopTestDependencies = await startTestDependencies((line) => process.stdout.write(`\n${line}\n`));
};
