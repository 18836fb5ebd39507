import 'reflect-metadata';
import { gatewayConfigSchema, loadConfigOrExit } from '@cloudstore/config';
import { createLogger, exitOnShutdownSignal, runMain } from '@cloudstore/observability';
import { startGateway } from './gateway.bootstrap';

runMain('gateway', async () => {
  const config = loadConfigOrExit('gateway', gatewayConfigSchema);
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const gateway = await startGateway(config, logger);
  exitOnShutdownSignal(logger, () => gateway.stop());
});
