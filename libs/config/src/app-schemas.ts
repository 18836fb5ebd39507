import type { z } from 'zod';
import { authConfigSchema } from './schemas/auth.config';
import { gatewayConfigSchema } from './schemas/gateway.config';
import { localClusterConfigSchema } from './schemas/local-cluster.config';
import { metadataConfigSchema } from './schemas/metadata.config';
import { storageNodeConfigSchema } from './schemas/storage-node.config';

/** The config schema of each deployable service, by the name of its folder under apps/. */
export const APP_CONFIG_SCHEMAS = {
  gateway: gatewayConfigSchema,
  auth: authConfigSchema,
  metadata: metadataConfigSchema,
  'storage-node': storageNodeConfigSchema,
} as const;

export type AppName = keyof typeof APP_CONFIG_SCHEMAS;

/** The environment variables a schema reads. */
export function variablesOf(schema: z.ZodType): string[] {
  let node: unknown = schema;
  // A schema with derived defaults is a pipe: object → transform.
  while (node && typeof node === 'object' && !('shape' in node) && 'in' in node) node = node.in;
  return Object.keys((node as { shape?: Record<string, unknown> }).shape ?? {});
}

/** Every variable any cloudstore process reads. */
export function allConfigVariables(): Set<string> {
  return new Set([...Object.values(APP_CONFIG_SCHEMAS), localClusterConfigSchema].flatMap((schema) => variablesOf(schema)));
}
