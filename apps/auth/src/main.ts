import 'reflect-metadata';
import { authConfigSchema, loadConfigOrExit } from '@cloudstore/config';
import { createLogger, exitOnShutdownSignal, runMain } from '@cloudstore/observability';
import { startAuthService } from './auth.bootstrap';

runMain('auth', async () => {
  const config = loadConfigOrExit('auth', authConfigSchema);
  const logger = createLogger('auth', config.LOG_LEVEL);
  const service = await startAuthService(config, logger);
  exitOnShutdownSignal(logger, () => service.stop());
});
