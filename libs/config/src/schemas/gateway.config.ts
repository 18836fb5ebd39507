import { z } from 'zod';
import { commonVars, DEFAULT_PORTS, internalTlsVars, withInternalTlsFiles, withServiceAddresses } from '../common-vars';
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
    /** Largest file accepted (FILE_TOO_LARGE beyond), 100 GiB as in the seed. */
    MAX_FILE_SIZE_BYTES: envVars.integer(107374182400, 1),
    /** A chunk read from one replica fails when no bytes arrive for this long (slow replicas are hedged much sooner). */
    CHUNK_READ_TIMEOUT_MS: envVars.integer(15_000, 100, 600_000),
    /** Deadline of writing one chunk to one node. */
    CHUNK_WRITE_TIMEOUT_MS: envVars.integer(60_000, 100, 600_000),
    /** An upload or download whose client sends or takes no byte for this long is ended; while bytes flow, none is. */
    TRANSFER_IDLE_TIMEOUT_SECONDS: envVars.integer(120, 1, 86_400),
    MASTER_KEY: commonVars.MASTER_KEY,
    DATA_DIR: commonVars.DATA_DIR,
    /**
     * Proxies whose X-Forwarded-For is believed; the client is the rightmost hop that is not one
     * of them. Empty: X-Forwarded-For is ignored, the client is the connection's peer.
     */
    TRUSTED_PROXIES: envVars.cidrList(),
    ...internalTlsVars,
  })
  .transform((config) => withInternalTlsFiles(withServiceAddresses(config), 'gateway'));

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
