import { loadConfig, type MetadataConfig, metadataConfigSchema } from '@cloudstore/config';
import { createServiceTestStores, type ServiceTestStores } from '@cloudstore/testing';
import { createMetadataDataSource, METADATA_SCHEMA } from './database/metadata-data-source';

export interface MetadataTestStores extends ServiceTestStores {
  readonly config: MetadataConfig;
}

/**
 * A migrated metadata database, a Redis key prefix and a data folder of the test file's own, and
 * the metadata config pointing at them; `env` adds to it. For medium tests that wire services by hand.
 */
export async function createMetadataTestStores(env: Record<string, string> = {}): Promise<MetadataTestStores> {
  const stores = await createServiceTestStores(createMetadataDataSource, METADATA_SCHEMA);
  return { ...stores, config: loadConfig(metadataConfigSchema, { ...stores.env, ...env }) };
}
