import { randomBytes, randomUUID } from 'node:crypto';
import { MasterKeyring, masterKey } from '@cloudstore/master-key';
import { createLogger } from '@cloudstore/observability';
import { createTestDataSource, newOrigin, type TestDataSource } from '@cloudstore/testing';
import type { DataSource } from 'typeorm';
import { createMetadataDataSource, METADATA_SCHEMA } from '../database/metadata-data-source';
import { AuditAppends } from './audit-appends';
import type { AuditChain } from './audit-chain';
import { AuditChainKeys } from './audit-chain-keys';
import { AuditChainKeysRepository } from './audit-chain-keys.repository';
import { AuditChainRepository } from './audit-chain.repository';
import { fileAuditEvent } from './audit-entry';
import { AuditLogRepository } from './audit-log.repository';
import { AuditRetention } from './audit-retention';
import { AuditSealer } from './audit-sealer';
import { AuditVerifier } from './audit-verifier';

/** The audit log's parts on a fresh metadata database, wired by hand as the module wires them. */
export interface AuditTestbed {
  readonly db: TestDataSource;
  readonly dataSource: DataSource;
  /** The master key, which wraps the chain's keys. */
  readonly key: Buffer;
  readonly chain: AuditChain;
  readonly auditLog: AuditLogRepository;
  readonly sealer: AuditSealer;
  readonly verifier: AuditVerifier;
  readonly retention: AuditRetention;
  /** A sealer and a log on a connection pool of their own, as another replica has. */
  replica(): Promise<{ auditLog: AuditLogRepository; sealer: AuditSealer; close(): Promise<void> }>;
  /** Appends `count` events of one new user (with every personal field), returns the user id. */
  appendUserEvents(count: number, occurredAt?: Date): Promise<string>;
}

export async function createAuditTestbed(retentionDays = 400): Promise<AuditTestbed> {
  const db = await createTestDataSource(createMetadataDataSource, METADATA_SCHEMA);
  const key = randomBytes(32);
  const chain = await new AuditChainKeys(new MasterKeyring(masterKey(key)), new AuditChainKeysRepository(db.dataSource)).chain();
  const logger = createLogger('audit-test', 'silent');
  const parts = (dataSource: DataSource) => {
    const repository = new AuditChainRepository();
    const auditLog = new AuditLogRepository(dataSource, new AuditAppends());
    const sealer = new AuditSealer(dataSource, repository, chain, new AuditAppends(), logger);
    return { repository, auditLog, sealer };
  };
  const { repository, auditLog, sealer } = parts(db.dataSource);
  const verifier = new AuditVerifier(db.dataSource, repository, chain);
  return {
    db,
    dataSource: db.dataSource,
    key,
    chain,
    auditLog,
    sealer,
    verifier,
    retention: new AuditRetention({ AUDIT_RETENTION_DAYS: retentionDays }, db.dataSource, repository, verifier, chain),
    replica: async () => {
      const dataSource = await createMetadataDataSource(db.db.url).initialize();
      return { ...parts(dataSource), close: () => dataSource.destroy() };
    },
    appendUserEvents: async (count, occurredAt) => {
      const userId = randomUUID();
      const events = Array.from({ length: count }, (_, i) => ({
        ...fileAuditEvent({
          operation: 'file.upload',
          status: 'success',
          userId,
          username: `user-${userId.slice(0, 8)}`,
          fileId: randomUUID(),
          filename: `file-${i}.bin`,
          sizeBytes: i,
          origin: newOrigin(),
          details: { attempt: i },
        }),
        ...(occurredAt ? { occurredAt: occurredAt.toISOString() } : {}),
      }));
      await auditLog.append(events);
      return userId;
    },
  };
}
