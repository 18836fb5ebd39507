import 'reflect-metadata';
import { awaitConfigOrExit, loadConfigOrExit, storageNodeConfigSchema } from '@cloudstore/config';
import { loadInternalTransport } from '@cloudstore/grpc';
import { createLogger, exitOnShutdownSignal, runMain } from '@cloudstore/observability';
import { startStorageNode } from './storage-node.bootstrap';

runMain('storage-node', async () => {
  const config = loadConfigOrExit('storage-node', storageNodeConfigSchema);
  const logger = createLogger(`storage-node:${config.STORAGE_NODE_ID}`, config.LOG_LEVEL);
  const transport = await awaitConfigOrExit(
    'storage-node',
    loadInternalTransport(config, (line) => logger.warn(line)),
  );
  const node = await startStorageNode(config, logger, transport);
  exitOnShutdownSignal(logger, () => node.stop());
});
