import { z } from 'zod';
import {
  checkMasterKeys,
  checkRedisCaFile,
  commonVars,
  DEFAULT_PORTS,
  internalTlsVars,
  withInternalTlsFiles,
  withServiceAddresses,
} from '../common-vars';
import { envVars } from '../env-vars';

/** TLS of the public ports (gRPC and REST), both or neither; reloaded on SIGHUP. */
export const publicTlsVars = {
  /** PEM certificate chain the gateway's public ports serve (TLS 1.3 minimum). */
  PUBLIC_TLS_CERT_FILE: envVars.optionalFile(),
  /** PEM private key of that certificate. */
  PUBLIC_TLS_KEY_FILE: envVars.optionalFile(),
} as const;

/** One of the two alone would serve plaintext while the operator meant TLS. */
export function checkPublicTlsFiles(
  config: { PUBLIC_TLS_CERT_FILE?: string | undefined; PUBLIC_TLS_KEY_FILE?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if ((config.PUBLIC_TLS_CERT_FILE === undefined) !== (config.PUBLIC_TLS_KEY_FILE === undefined))
    ctx.addIssue({ code: 'custom', message: 'PUBLIC_TLS_CERT_FILE and PUBLIC_TLS_KEY_FILE must be set together (or neither)' });
}

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
    REDIS_CA_FILE: commonVars.REDIS_CA_FILE,
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
    MASTER_KEY_PREVIOUS: commonVars.MASTER_KEY_PREVIOUS,
    DATA_DIR: commonVars.DATA_DIR,
    /**
     * Proxies whose X-Forwarded-For is believed; the client is the rightmost hop that is not one
     * of them. Empty: X-Forwarded-For is ignored, the client is the connection's peer.
     */
    TRUSTED_PROXIES: envVars.cidrList(),
    ...internalTlsVars,
    ...publicTlsVars,
  })
  .superRefine((config, ctx) => {
    checkRedisCaFile(config, ctx);
    checkMasterKeys(config, ctx);
    checkPublicTlsFiles(config, ctx);
  })
  .transform((config) => withInternalTlsFiles(withServiceAddresses(config), 'gateway'));

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
