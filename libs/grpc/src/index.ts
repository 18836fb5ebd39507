/** gRPC plumbing shared by every service: proto loading, servers, clients, errors, health. */
export * from './proto-loader';
export * from './grpc-errors';
export * from './grpc-client';
export * from './grpc-server';
export * from './grpc-exception.filter';
export * from './grpc-context.interceptor';
export * from './internal-authz';
export * from './health-client';
export * from './grpc-service-runner';
export * from './stream-call';
export * from './server-stream-writer';
export * from './tls/internal-transport';
export * from './tls/cluster-pki';
