import 'reflect-metadata';
import { awaitConfigOrExit, loadConfigOrExit, metadataConfigSchema } from '@cloudstore/config';
import { loadMasterKeyring } from '@cloudstore/master-key';
import { createLogger, runMain } from '@cloudstore/observability';
import { describeBreak } from './audit/audit-chain';
import { AuditChainKeys } from './audit/audit-chain-keys';
import { AuditChainKeysRepository } from './audit/audit-chain-keys.repository';
import { AuditChainRepository } from './audit/audit-chain.repository';
import { AuditVerifier } from './audit/audit-verifier';
import { createMetadataDataSource } from './database/metadata-data-source';

/**
 * `npm run audit:verify`: with metadata's configuration (DATABASE_URL, MASTER_KEY or
 * DATA_DIR/master.key, and MASTER_KEY_PREVIOUS during a rotation, which unwrap the chain's keys), walks the audit chain from its latest checkpoint. Exit 0 with a summary
 * when it is intact; exit 1 with the first broken link (its chain_seq, row id and what is wrong).
 */
runMain('audit:verify', async () => {
  const config = loadConfigOrExit('audit:verify', metadataConfigSchema);
  const logger = createLogger('audit-verify', config.LOG_LEVEL);
  const masterKeys = await awaitConfigOrExit('audit:verify', loadMasterKeyring(config, logger));
  const dataSource = await createMetadataDataSource(config.DATABASE_URL).initialize();
  try {
    const chain = await new AuditChainKeys(masterKeys, new AuditChainKeysRepository(dataSource)).chain();
    const result = await new AuditVerifier(dataSource, new AuditChainRepository(), chain).verify();
    const from = result.checkpointSeq === null ? 'the first row' : `the checkpoint at chain_seq ${result.checkpointSeq}`;
    if (result.broken) {
      process.stdout.write(`audit:verify: ${describeBreak(result.broken)}\n`);
      process.exitCode = 1;
    } else {
      process.stdout.write(
        `audit:verify: audit chain intact: ${result.rowsChecked} rows checked from ${from}, last chain_seq ${result.lastSeq}\n`,
      );
    }
  } finally {
    await dataSource.destroy();
  }
});
