// Stops the PostgreSQL and Redis the global setup ran, if it ran any.
module.exports = async function globalTeardown() {
  await globalThis.stopTestDependencies?.();
};
