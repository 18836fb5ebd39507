/** Helpers for integration and e2e tests: throw-away databases, free ports, polling. */
export * from './test-database';
export * from './ports';
export * from './wait-for';
export * from './service-migrations';
export * from './test-pki';
