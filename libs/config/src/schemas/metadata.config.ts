import { z } from 'zod';
import { commonVars } from '../common-vars';
import { envVars } from '../env-vars';

export const metadataConfigSchema = z.object({
  LOG_LEVEL: commonVars.LOG_LEVEL,
  METADATA_PORT: commonVars.METADATA_PORT,
  DATABASE_URL: commonVars.DATABASE_URL,
  REDIS_URL: commonVars.REDIS_URL,
  REDIS_KEY_PREFIX: commonVars.REDIS_KEY_PREFIX,
  METRICS_PORT: commonVars.METRICS_PORT,
  /** How often storage nodes are asked to send a heartbeat. */
  HEARTBEAT_INTERVAL_SECONDS: envVars.integer(5, 1, 3600),
  /** A node silent for this long is down: its replicas stop counting as healthy. */
  NODE_DOWN_AFTER_SECONDS: envVars.integer(15, 2, 86400),
});

export type MetadataConfig = z.output<typeof metadataConfigSchema>;
