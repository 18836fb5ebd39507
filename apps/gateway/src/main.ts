import 'reflect-metadata';
import { awaitConfigOrExit, gatewayConfigSchema, loadConfigOrExit } from '@cloudstore/config';
import { loadInternalTransport } from '@cloudstore/grpc';
import { createLogger, exitOnShutdownSignal, runMain } from '@cloudstore/observability';
import { loadMasterKeyring } from '@cloudstore/master-key';
import { startGateway } from './gateway.bootstrap';
import { PublicTls, reloadPublicTlsOnSighup } from './public-tls/public-tls';

/**
 * How long a gateway told to stop lets the transfers under way finish before it exits anyway:
 * within the 30 s that Kubernetes (terminationGracePeriodSeconds) and docker-compose
 * (stop_grace_period) give before they kill.
 */
const TRANSFERS_DRAIN_MS = 25_000;

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
  exitOnShutdownSignal(logger, () => gateway.stop(), TRANSFERS_DRAIN_MS);
});
