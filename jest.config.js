// Unit and integration tests of every project (e2e runs on its own: e2e/jest.config.js).
module.exports = {
  // Jest reads the timeout from the root config when it runs several projects: the preset's does
  // not reach them, and 5 s is too short for Argon2 on a loaded machine.
  testTimeout: 30_000,
  // Two at once even on two cores (Jest's default would be one): integration tests mostly wait
  // on PostgreSQL and Redis, each in its own database and key prefix; this halves the suite's time.
  maxWorkers: 2,
  globalSetup: '<rootDir>/jest.global-setup.js',
  globalTeardown: '<rootDir>/jest.global-teardown.js',
  projects: [
    '<rootDir>/apps/*/jest.config.js',
    '<rootDir>/libs/*/jest.config.js',
    '<rootDir>/tools/*/jest.config.js',
    '<rootDir>/deploy/jest.config.js',
  ],
};
