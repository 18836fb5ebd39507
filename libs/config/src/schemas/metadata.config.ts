import { z } from 'zod';
import {
  checkMasterKeys,
  checkRedisCaFile,
  commonVars,
  internalTlsVars,
  withInternalTlsFiles,
  withServiceAddresses,
} from '../common-vars';
import { envVars } from '../env-vars';

export const metadataConfigSchema = z
  .object({
    LOG_LEVEL: commonVars.LOG_LEVEL,
    METADATA_PORT: commonVars.METADATA_PORT,
    /** Where other services dial metadata; on a loopback address (the default) it listens on loopback only. */
    METADATA_ADDRESS: commonVars.METADATA_ADDRESS,
    /** Where metadata fetches the public keys that verify users' access tokens (GetVerificationKeys). */
    AUTH_PORT: commonVars.AUTH_PORT,
    AUTH_ADDRESS: commonVars.AUTH_ADDRESS,
    DATABASE_URL: commonVars.DATABASE_URL,
    REDIS_URL: commonVars.REDIS_URL,
    REDIS_CA_FILE: commonVars.REDIS_CA_FILE,
    REDIS_KEY_PREFIX: commonVars.REDIS_KEY_PREFIX,
    METRICS_PORT: commonVars.METRICS_PORT,
    DATA_DIR: commonVars.DATA_DIR,
    /**
     * Keys the audit log's chain and its checkpoints (the same key as the gateway's); also read by
     * `npm run keys:rotate-master`, which re-wraps the users' keys.
     */
    MASTER_KEY: commonVars.MASTER_KEY,
    MASTER_KEY_PREVIOUS: commonVars.MASTER_KEY_PREVIOUS,
    ...internalTlsVars,
    /** How often storage nodes are asked to send a heartbeat. */
    HEARTBEAT_INTERVAL_SECONDS: envVars.integer(5, 1, 3600),
    /** A node silent for this long is down: its replicas stop counting as healthy. */
    NODE_DOWN_AFTER_SECONDS: envVars.integer(15, 2, 86400),
    /** Copies of every chunk, capped at the number of live nodes. */
    REPLICATION_FACTOR: envVars.integer(3, 1, 16),
    /** Fsynced copies an upload's chunk needs before it counts; unset, a majority of the factor (2 of 3). */
    WRITE_QUORUM: envVars.optionalInteger(1, 16),
    /** Quota of a new basic user (100 GiB). */
    DEFAULT_QUOTA_BYTES: envVars.integer(107374182400, 0),
    /** Quota of a premium user (1 TiB). */
    PREMIUM_QUOTA_BYTES: envVars.integer(1099511627776, 0),
    /** Quota of an admin; 0 means unlimited. */
    ADMIN_QUOTA_BYTES: envVars.integer(0, 0),
    /** A deleted file can be restored for this long (30 days), then it is purged; 0 purges at once. */
    TRASH_RETENTION_SECONDS: envVars.integer(2592000, 0, 10 * 365 * 86400),
    /** A resumable upload not finished this long after it was created is dropped (reservation and chunks released). */
    UPLOAD_EXPIRY_SECONDS: envVars.integer(86400, 2, 30 * 86400),
    /** Earlier versions kept of each file, the oldest dropped past it; 0 keeps none. */
    VERSIONS_KEPT: envVars.integer(5, 0, 1000),
    /** An upload with no new chunk for this long is aborted and its chunks collected (a gateway that died). */
    UPLOAD_IDLE_TIMEOUT_SECONDS: envVars.integer(600, 5, 7 * 86400),
    /**
     * How long an upload of undeclared size that fits alone waits for older uploads of the same
     * user to finish before it is refused (QUOTA_EXCEEDED). At most 60: the gateway's call waits.
     */
    QUOTA_WAIT_SECONDS: envVars.integer(30, 0, 60),
    /** How often under- and over-replicated chunks are looked for (and drains progress). */
    REPLICATION_CHECK_INTERVAL_SECONDS: envVars.integer(10, 1, 3600),
    /** Chunk copies made at once by one metadata replica. */
    REPAIR_CONCURRENCY: envVars.integer(4, 1, 64),
    /** Every replica is re-read and checked against its SHA-256 at least this often (7 days). */
    SCRUB_INTERVAL_SECONDS: envVars.integer(604800, 1, 365 * 86400),
    /** Scrubbing reads at most this many bytes per second, across the cluster. */
    SCRUB_BYTES_PER_SECOND: envVars.integer(20 * 1024 * 1024, 1024),
    /** How often replicas are moved toward their placement (a node joined); 0 turns it off. */
    REBALANCE_INTERVAL_SECONDS: envVars.integer(60, 0, 86400),
    /** Rebalancing moves at most this many bytes per second. */
    REBALANCE_BYTES_PER_SECOND: envVars.integer(10 * 1024 * 1024, 1024),
    /** Sealed audit events older than this are pruned behind a signed checkpoint. */
    AUDIT_RETENTION_DAYS: envVars.integer(400, 1, 100 * 365),
  })
  .superRefine((config, ctx) => {
    checkRedisCaFile(config, ctx);
    checkMasterKeys(config, ctx);
    if (config.WRITE_QUORUM !== undefined && config.WRITE_QUORUM > config.REPLICATION_FACTOR)
      ctx.addIssue({ code: 'custom', path: ['WRITE_QUORUM'], message: 'must not be more than REPLICATION_FACTOR' });
  })
  .transform((config) => withInternalTlsFiles(withServiceAddresses(config), 'metadata'));

export type MetadataConfig = z.output<typeof metadataConfigSchema>;
