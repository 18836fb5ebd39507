import 'reflect-metadata';
import { awaitConfigOrExit, gatewayConfigSchema, loadConfigOrExit } from '@cloudstore/config';
import { loadInternalTransport } from '@cloudstore/grpc';
import { createLogger, exitOnShutdownSignal, runMain } from '@cloudstore/observability';
import { loadMasterKeyring } from '@cloudstore/master-key';
import { startGateway } from './gateway.bootstrap';
import { PublicTls, reloadPublicTlsOnSighup } from './public-tls/public-tls';

runMain('gateway', async () => {
  const config = loadConfigOrExit('gateway', gatewayConfigSchema);
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const masterKeys = await awaitConfigOrExit('gateway', loadMasterKeyring(config, logger));
  const transport = await awaitConfigOrExit(
    'gateway',
    loadInternalTransport(config, (line) => logger.warn(line)),
  );
  const publicTls = await awaitConfigOrExit('gateway', PublicTls.load(config));
  const gateway = await startGateway(config, masterKeys, logger, transport, publicTls);
  reloadPublicTlsOnSighup(publicTls, logger);
  // Transfers under way may finish until the process's SHUTDOWN_TIMEOUT_MS runs out.
  exitOnShutdownSignal(logger, () => gateway.stop());
});
