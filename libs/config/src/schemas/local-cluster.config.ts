import { z } from 'zod';
import { checkRedisCaFile, commonVars, DEFAULT_PORTS, internalTlsVars } from '../common-vars';
import { checkPublicTlsFiles, publicTlsVars } from './gateway.config';
import { envVars } from '../env-vars';

/** Where `npm start` and the tests look for PostgreSQL and Redis when DATABASE_URL and REDIS_URL are unset. */
export const localDependencyVars = {
  /** With DATABASE_URL unset: the PostgreSQL on 127.0.0.1 at this port, or an embedded one run there. */
  LOCAL_POSTGRES_PORT: envVars.port(5432),
  /** With REDIS_URL unset: the Redis on 127.0.0.1 at this port, or a redis-server from the PATH run there. */
  LOCAL_REDIS_PORT: envVars.port(6379),
};

/** What `npm start` itself reads; every service's own schema is checked too before it starts. */
export const localClusterConfigSchema = z
  .object({
    LOG_LEVEL: commonVars.LOG_LEVEL,
    DATABASE_URL: commonVars.DATABASE_URL,
    REDIS_URL: commonVars.REDIS_URL,
    ...localDependencyVars,
    REDIS_CA_FILE: commonVars.REDIS_CA_FILE,
    DATA_DIR: commonVars.DATA_DIR,
    GRPC_PORT: envVars.port(DEFAULT_PORTS.GRPC_PORT),
    HTTP_PORT: envVars.port(DEFAULT_PORTS.HTTP_PORT),
    AUTH_PORT: commonVars.AUTH_PORT,
    METADATA_PORT: commonVars.METADATA_PORT,
    STORAGE_NODE_BASE_PORT: envVars.port(DEFAULT_PORTS.STORAGE_NODE_BASE_PORT),
    STORAGE_NODES: envVars.integer(3, 1, 64),
    /** Metrics of the internal services listen on their gRPC port plus this offset; 0 for off. */
    METRICS_PORT_OFFSET: envVars.integer(1000, 0, 10000),
    /** On with no files given: the dev PKI under DATA_DIR/pki is created once and each service gets its own certificate. */
    ...internalTlsVars,
    /** Given, the gateway serves its public ports over TLS and the cluster probes and names them https. */
    ...publicTlsVars,
  })
  .superRefine((config, ctx) => {
    checkRedisCaFile(config, ctx);
    checkPublicTlsFiles(config, ctx);
  });

export type LocalClusterConfig = z.output<typeof localClusterConfigSchema>;
