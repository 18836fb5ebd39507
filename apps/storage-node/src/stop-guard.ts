import { setTimeout as sleep } from 'node:timers/promises';
import { awaitConfigOrExit, loadConfigOrExit, storageNodeConfigSchema } from '@cloudstore/config';
import { NODE_REGISTRY_SERVICE, type nodeRegistryApi } from '@cloudstore/contracts';
import { GrpcServiceClient, loadInternalTransport } from '@cloudstore/grpc';
import { runMain } from '@cloudstore/observability';
import { guardStop } from './stop-guard/sole-copies-guard';

/**
 * The storage node's preStop hook: `node dist/apps/storage-node/src/stop-guard.js
 * [--max-wait-seconds N]`, with the node's own environment (STORAGE_NODE_ID, METADATA_ADDRESS,
 * INTERNAL_TLS and its files). Exits 0 once no chunk has its only healthy copy on this node, 1
 * when some still do after N seconds (default 540) or the metadata service did not answer, 2 for
 * bad usage, 78 for a bad configuration.
 */
runMain('stop-guard', async () => {
  const config = loadConfigOrExit('stop-guard', storageNodeConfigSchema);
  // The warning about INTERNAL_TLS=off is the node's to print, not its hook's.
  const transport = await awaitConfigOrExit(
    'stop-guard',
    loadInternalTransport(config, () => undefined),
  );
  const nodeId = config.STORAGE_NODE_ID;
  const registry = new GrpcServiceClient<nodeRegistryApi.NodeRegistryServiceClient>(
    NODE_REGISTRY_SERVICE,
    config.METADATA_ADDRESS,
    transport,
  );
  const code = await guardStop(
    process.argv.slice(2),
    nodeId,
    { soleCopies: async (timeoutMs) => (await registry.call('getSoleCopies', { nodeId }, { timeoutMs })).soleCopies },
    { now: () => Date.now(), sleep: (ms) => sleep(ms) },
    { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) },
  );
  registry.close();
  process.exit(code);
});
