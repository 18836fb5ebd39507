import { z } from 'zod';
import { commonVars } from '../common-vars';

export const authConfigSchema = z.object({
  LOG_LEVEL: commonVars.LOG_LEVEL,
  AUTH_PORT: commonVars.AUTH_PORT,
  DATABASE_URL: commonVars.DATABASE_URL,
  REDIS_URL: commonVars.REDIS_URL,
  REDIS_KEY_PREFIX: commonVars.REDIS_KEY_PREFIX,
  DATA_DIR: commonVars.DATA_DIR,
  METRICS_PORT: commonVars.METRICS_PORT,
});

export type AuthConfig = z.output<typeof authConfigSchema>;
