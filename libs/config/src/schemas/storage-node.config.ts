import { hostname } from 'node:os';
import { z } from 'zod';
import { commonVars, DEFAULT_PORTS, internalTlsVars, withInternalTlsFiles, withServiceAddresses } from '../common-vars';
import { envVars } from '../env-vars';

export const storageNodeConfigSchema = z
  .object({
    LOG_LEVEL: commonVars.LOG_LEVEL,
    /** Stable identity of the node; its data lives in DATA_DIR/nodes/<id>. */
    STORAGE_NODE_ID: envVars.identifier(
      hostname()
        .replace(/[^A-Za-z0-9_-]/g, '-')
        .slice(0, 64),
    ),
    STORAGE_NODE_PORT: envVars.port(DEFAULT_PORTS.STORAGE_NODE_BASE_PORT),
    /** host:port that other services dial; defaults to 127.0.0.1 and the node's port. */
    STORAGE_NODE_ADDRESS: envVars.optionalAddress(),
    /** Bytes the node offers; 0 means what its disk has (used + free). */
    STORAGE_NODE_CAPACITY_BYTES: envVars.integer(0, 0),
    DATA_DIR: commonVars.DATA_DIR,
    AUTH_PORT: commonVars.AUTH_PORT,
    METADATA_PORT: commonVars.METADATA_PORT,
    AUTH_ADDRESS: commonVars.AUTH_ADDRESS,
    METADATA_ADDRESS: commonVars.METADATA_ADDRESS,
    METRICS_PORT: commonVars.METRICS_PORT,
    ...internalTlsVars,
  })
  // A certificate's name is the caller's identity: a node named like a service would be that service.
  .refine((config) => !['gateway', 'auth', 'metadata'].includes(config.STORAGE_NODE_ID), {
    path: ['STORAGE_NODE_ID'],
    message: 'must not be gateway, auth or metadata (the names of the services)',
  })
  .transform((config) => {
    // A node's certificate is named after its id: DATA_DIR/pki/<STORAGE_NODE_ID>.crt.
    const withAddresses = withInternalTlsFiles(withServiceAddresses(config), config.STORAGE_NODE_ID);
    return {
      ...withAddresses,
      STORAGE_NODE_ADDRESS: config.STORAGE_NODE_ADDRESS ?? `127.0.0.1:${config.STORAGE_NODE_PORT}`,
    };
  });

export type StorageNodeConfig = z.output<typeof storageNodeConfigSchema>;
