import { z } from 'zod';
import { commonVars, DEFAULT_PORTS, withServiceAddresses } from '../common-vars';
import { envVars } from '../env-vars';

export const gatewayConfigSchema = z
  .object({
    LOG_LEVEL: commonVars.LOG_LEVEL,
    GRPC_PORT: envVars.port(DEFAULT_PORTS.GRPC_PORT),
    HTTP_PORT: envVars.port(DEFAULT_PORTS.HTTP_PORT),
    AUTH_PORT: commonVars.AUTH_PORT,
    METADATA_PORT: commonVars.METADATA_PORT,
    AUTH_ADDRESS: commonVars.AUTH_ADDRESS,
    METADATA_ADDRESS: commonVars.METADATA_ADDRESS,
    REDIS_URL: commonVars.REDIS_URL,
    REDIS_KEY_PREFIX: commonVars.REDIS_KEY_PREFIX,
    CHUNK_SIZE_BYTES: envVars.integer(4 * 1024 * 1024, 64 * 1024, 64 * 1024 * 1024),
    REPLICATION_FACTOR: envVars.integer(3, 1, 16),
    /** Take the client address from X-Forwarded-For (set when a proxy you trust stands in front). */
    TRUST_PROXY: envVars.boolean(false),
  })
  .transform(withServiceAddresses);

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
