// Unit and integration tests of every project (e2e runs on its own: e2e/jest.config.js).
module.exports = {
  projects: [
    '<rootDir>/apps/*/jest.config.js',
    '<rootDir>/libs/*/jest.config.js',
    '<rootDir>/tools/*/jest.config.js',
    '<rootDir>/deploy/jest.config.js',
  ],
};
