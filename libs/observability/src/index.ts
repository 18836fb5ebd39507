/** Logging, metrics, request correlation and health: what every cloudstore process reports. */
export * from './request-context';
export * from './logger';
export * from './nest-logger';
export * from './metrics';
export * from './health';
export * from './readiness';
export * from './shutdown';
export * from './tokens';
export * from './run-main';
