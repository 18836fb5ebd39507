import 'reflect-metadata';
import { awaitConfigOrExit, loadConfigOrExit, metadataConfigSchema } from '@cloudstore/config';
import { loadInternalTransport } from '@cloudstore/grpc';
import { loadMasterKeyring } from '@cloudstore/master-key';
import { createLogger, exitOnShutdownSignal, runMain } from '@cloudstore/observability';
import { startMetadataService } from './metadata.bootstrap';

runMain('metadata', async () => {
  const config = loadConfigOrExit('metadata', metadataConfigSchema);
  const logger = createLogger('metadata', config.LOG_LEVEL);
  const transport = await awaitConfigOrExit(
    'metadata',
    loadInternalTransport(config, (line) => logger.warn(line)),
  );
  const masterKeys = await awaitConfigOrExit('metadata', loadMasterKeyring(config, logger));
  const service = await startMetadataService(config, logger, transport, masterKeys);
  exitOnShutdownSignal(logger, () => service.stop());
});
