/** The local cluster of `npm start`: every service as a supervised OS process. */
export * from './local-cluster';
export * from './supervised-process';
export * from './preflight';
export * from './embedded-dependencies';
export * from './test-dependencies';
