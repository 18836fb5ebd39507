import 'reflect-metadata';
import { loadConfigOrExit, metadataConfigSchema } from '@cloudstore/config';
import { createLogger, exitOnShutdownSignal, runMain } from '@cloudstore/observability';
import { startMetadataService } from './metadata.bootstrap';

runMain('metadata', async () => {
  const config = loadConfigOrExit('metadata', metadataConfigSchema);
  const logger = createLogger('metadata', config.LOG_LEVEL);
  const service = await startMetadataService(config, logger);
  exitOnShutdownSignal(logger, () => service.stop());
});
