import 'reflect-metadata';
import { awaitConfigOrExit, authConfigSchema, loadConfigOrExit } from '@cloudstore/config';
import { loadInternalTransport } from '@cloudstore/grpc';
import { loadMasterKeyring } from '@cloudstore/master-key';
import { createLogger, exitOnShutdownSignal, runMain } from '@cloudstore/observability';
import { startAuthService } from './auth.bootstrap';

runMain('auth', async () => {
  const config = loadConfigOrExit('auth', authConfigSchema);
  const logger = createLogger('auth', config.LOG_LEVEL);
  const transport = await awaitConfigOrExit(
    'auth',
    loadInternalTransport(config, (line) => logger.warn(line)),
  );
  const masterKeys = await awaitConfigOrExit('auth', loadMasterKeyring(config, logger));
  const service = await startAuthService(config, logger, transport, masterKeys);
  exitOnShutdownSignal(logger, () => service.stop());
});
