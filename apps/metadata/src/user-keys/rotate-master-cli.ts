import 'reflect-metadata';
import { awaitConfigOrExit, loadConfigOrExit, metadataConfigSchema } from '@cloudstore/config';
import { openServiceDatabase } from '@cloudstore/database';
import { loadMasterKeyring } from '@cloudstore/master-key';
import { createLogger, runMain } from '@cloudstore/observability';
import { createMetadataDataSource, METADATA_SCHEMA } from '../database/metadata-data-source';
import { AuditChainKeysRepository } from '../audit/audit-chain-keys.repository';
import { FilesRepository } from '../files/files.repository';
import { MasterKeyRotation } from './master-key-rotation';
import { UserKeysRepository } from './user-keys.repository';

/**
 * The metadata part of `npm run keys:rotate-master` (see MasterKeyRotation): with MASTER_KEY the
 * new key and MASTER_KEY_PREVIOUS the old one, re-wraps every user's key and the audit chain's
 * keys under the new key (and moves data keys from before user keys under their owner's key).
 */
runMain('keys:rotate-master', async () => {
  const config = loadConfigOrExit('keys:rotate-master', metadataConfigSchema);
  const logger = createLogger('keys-rotate-master', config.LOG_LEVEL);
  const masterKeys = await awaitConfigOrExit('keys:rotate-master', loadMasterKeyring(config, logger));
  const dataSource = await openServiceDatabase(config.DATABASE_URL, METADATA_SCHEMA, createMetadataDataSource, logger);
  try {
    const result = await new MasterKeyRotation(
      masterKeys,
      new UserKeysRepository(dataSource),
      new FilesRepository(dataSource),
      new AuditChainKeysRepository(dataSource),
    ).run();
    process.stdout.write(
      `cloudstore: ${result.userKeysRewrapped} user keys re-wrapped${result.auditChainKeysRewrapped ? ', the audit chain keys re-wrapped' : ''} and ${result.dataKeysMoved} data keys moved under their owner's key; every user key and the audit chain keys are wrapped by master key ${masterKeys.current.id}\n`,
    );
  } finally {
    await dataSource.destroy();
  }
});
