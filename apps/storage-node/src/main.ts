import 'reflect-metadata';
import { loadConfigOrExit, storageNodeConfigSchema } from '@cloudstore/config';
import { createLogger, exitOnShutdownSignal, runMain } from '@cloudstore/observability';
import { startStorageNode } from './storage-node.bootstrap';

runMain('storage-node', async () => {
  const config = loadConfigOrExit('storage-node', storageNodeConfigSchema);
  const logger = createLogger(`storage-node:${config.STORAGE_NODE_ID}`, config.LOG_LEVEL);
  const node = await startStorageNode(config, logger);
  exitOnShutdownSignal(logger, () => node.stop());
});
