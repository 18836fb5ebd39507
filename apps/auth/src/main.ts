import 'reflect-metadata';
import { awaitConfigOrExit, authConfigSchema, loadConfigOrExit } from '@cloudstore/config';
import { loadInternalTransport } from '@cloudstore/grpc';
import { loadMasterKey } from '@cloudstore/master-key';
import { createLogger, exitOnShutdownSignal, runMain } from '@cloudstore/observability';
import { startAuthService } from './auth.bootstrap';

runMain('auth', async () => {
  const config = loadConfigOrExit('auth', authConfigSchema);
  const logger = createLogger('auth', config.LOG_LEVEL);
  const transport = await awaitConfigOrExit(
    'auth',
    loadInternalTransport(config, (line) => logger.warn(line)),
  );
  const masterKey = await awaitConfigOrExit('auth', loadMasterKey(config, logger));
  const service = await startAuthService(config, logger, transport, masterKey);
  exitOnShutdownSignal(logger, () => service.stop());
});
