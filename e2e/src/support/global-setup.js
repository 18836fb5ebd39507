// The e2e tests run the services from dist/: build it once, fresh, before they start.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = function globalSetup() {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: join(__dirname, '../../..'), stdio: 'inherit' });
};
