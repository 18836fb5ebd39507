// End-to-end tests: the real cluster as OS processes (built into dist/ by the global setup),
// real PostgreSQL and Redis, talked to over real gRPC and HTTP. One file at a time.
const preset = require('../jest.preset.js');

module.exports = {
  ...preset,
  displayName: 'e2e',
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/../jest.global-setup.js',
  globalTeardown: '<rootDir>/../jest.global-teardown.js',
  testTimeout: 180_000,
  maxWorkers: 1,
};
