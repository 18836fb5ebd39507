import 'reflect-metadata';
import { awaitConfigOrExit, gatewayConfigSchema, loadConfigOrExit } from '@cloudstore/config';
import { loadInternalTransport } from '@cloudstore/grpc';
import { createLogger, exitOnShutdownSignal, runMain } from '@cloudstore/observability';
import { loadMasterKey } from '@cloudstore/master-key';
import { startGateway } from './gateway.bootstrap';

runMain('gateway', async () => {
  const config = loadConfigOrExit('gateway', gatewayConfigSchema);
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const masterKey = await awaitConfigOrExit('gateway', loadMasterKey(config, logger));
  const transport = await awaitConfigOrExit(
    'gateway',
    loadInternalTransport(config, (line) => logger.warn(line)),
  );
  const gateway = await startGateway(config, masterKey, logger, transport);
  exitOnShutdownSignal(logger, () => gateway.stop());
});
