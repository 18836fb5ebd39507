import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KeyedHash, MasterKeyring, masterKey } from '@cloudstore/master-key';
import { createLogger } from '@cloudstore/observability';
import { AuditAppends } from './audit-appends';
import { AuditChain, masterDerivedAuditChainKeys } from './audit-chain';
import { AuditChainKeys } from './audit-chain-keys';
import { AuditChainKeysRepository } from './audit-chain-keys.repository';
import { AuditChainRepository } from './audit-chain.repository';
import { createAuditTestbed, type AuditTestbed } from './audit-chain.test-helper';
import { AuditRetention } from './audit-retention';
import { AuditSealer } from './audit-sealer';
import { AuditVerifier } from './audit-verifier';

const AUDIT_VERIFY_CLI = join(__dirname, '../../../../dist/apps/metadata/src/audit-verify.js');
const ROTATE_MASTER_CLI = join(__dirname, '../../../../dist/apps/metadata/src/user-keys/rotate-master-cli.js');
const DAY_MS = 86_400_000;

/** `npm run audit:verify`, the built command, against a test database: exit code and its one line. */
describe('audit:verify', () => {
  let bed: AuditTestbed;

  beforeEach(async () => {
    bed = await createAuditTestbed(30);
  });

  afterEach(async () => {
    await bed.db.drop();
  });

  /** A built command against the test database: exit code and its output. */
  async function run(cli: string, masterKeys: Buffer[]): Promise<{ code: number; line: string }> {
    const env = {
      PATH: process.env['PATH'] ?? '',
      DATABASE_URL: bed.db.db.url,
      MASTER_KEY: masterKeys[0]?.toString('base64') ?? '',
      ...(masterKeys[1] ? { MASTER_KEY_PREVIOUS: masterKeys[1].toString('base64') } : {}),
    };
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [cli], { env });
      return { code: 0, line: stdout.trim() };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, line: `${failed.stdout}${failed.stderr}`.trim() };
    }
  }

  /** `npm run audit:verify` with the master key (or keys, current first) given. */
  async function auditVerify(...masterKeys: Buffer[]): Promise<{ code: number; line: string }> {
    return run(AUDIT_VERIFY_CLI, masterKeys.length > 0 ? masterKeys : [bed.key]);
  }

  /** Seals what is unsealed as a metadata service with this chain does. */
  async function sealWith(chain: AuditChain): Promise<number> {
    return new AuditSealer(
      bed.dataSource,
      new AuditChainRepository(),
      chain,
      new AuditAppends(),
      createLogger('test', 'silent'),
    ).seal();
  }

  /** The chain as a metadata service started with these master keys (current first) has it. */
  async function chainUnder(...keys: Buffer[]): Promise<AuditChain> {
    const [current, previous] = keys.map(masterKey);
    if (!current) throw new Error('no master key');
    return new AuditChainKeys(new MasterKeyring(current, previous), new AuditChainKeysRepository(bed.dataSource)).chain();
  }

  async function rowAt(seq: number): Promise<string> {
    const [row] = await bed.dataSource.query<{ id: string }[]>('SELECT id::text FROM metadata.audit_log WHERE chain_seq = $1', [
      seq,
    ]);
    return row?.id ?? '';
  }

  async function sealedChainOf(rows: number): Promise<void> {
    await bed.appendUserEvents(rows);
    await bed.sealer.seal();
  }

  it('exits 0 with the rows checked and the last seq when the chain is intact', async () => {
    await sealedChainOf(12);
    expect(await auditVerify()).toEqual({
      code: 0,
      line: 'audit:verify: audit chain intact: 12 rows checked from the first row, last chain_seq 12',
    });
  });

  it('exits 1 naming an edited row', async () => {
    await sealedChainOf(12);
    await bed.dataSource.query(`UPDATE metadata.audit_log SET status = 'failure' WHERE chain_seq = 7`);
    expect(await auditVerify()).toEqual({
      code: 1,
      line: `audit:verify: audit chain broken at chain_seq 7, row id ${await rowAt(7)}: edited: it does not match its MAC, while the next row links to that MAC`,
    });
  });

  it('exits 1 naming the seq of a deleted row, and the row after the gap', async () => {
    await sealedChainOf(12);
    const after = await rowAt(8);
    await bed.dataSource.query('DELETE FROM metadata.audit_log WHERE chain_seq = 7');
    expect(await auditVerify()).toEqual({
      code: 1,
      line: `audit:verify: audit chain broken at chain_seq 7, row id ${after}: deleted: chain_seq 7 is missing before this row`,
    });
  });

  it('exits 1 naming a row inserted into the chain (the rows after it renumbered to make room)', async () => {
    await sealedChainOf(12);
    // Up out of the way, then back one higher: the unique index takes each statement whole.
    await bed.dataSource.query('UPDATE metadata.audit_log SET chain_seq = chain_seq + 1000 WHERE chain_seq >= 7');
    await bed.dataSource.query('UPDATE metadata.audit_log SET chain_seq = chain_seq - 999 WHERE chain_seq >= 1000');
    const [inserted] = await bed.dataSource.query<{ id: string }[]>(
      `INSERT INTO metadata.audit_log (event_id, occurred_at, operation, status, details, chain_seq, mac, personal_digest)
       SELECT gen_random_uuid(), occurred_at, 'file.delete', 'success', details, 7, mac, personal_digest
       FROM metadata.audit_log WHERE chain_seq = 6 RETURNING id::text`,
    );
    expect(await auditVerify()).toEqual({
      code: 1,
      line: `audit:verify: audit chain broken at chain_seq 7, row id ${inserted?.id}: inserted: it does not link to the row before it, nor does the next row link to it (inserted, moved or renumbered)`,
    });
  });

  it('verifies from the signed checkpoint that retention leaves, and refuses a forged one', async () => {
    await bed.appendUserEvents(5, new Date(Date.now() - 31 * DAY_MS));
    await bed.appendUserEvents(4);
    await bed.sealer.seal();
    expect(await bed.retention.prune()).toBe(5);
    expect(await bed.retention.prune()).toBe(0);
    expect(await bed.dataSource.query('SELECT min(chain_seq)::text AS first FROM metadata.audit_log')).toEqual([{ first: '6' }]);
    expect(await auditVerify()).toEqual({
      code: 0,
      line: 'audit:verify: audit chain intact: 4 rows checked from the checkpoint at chain_seq 5, last chain_seq 9',
    });

    // Sealing continues after the cut, and a chain pruned whole continues from its checkpoint.
    expect(await bed.retention.prune(new Date(Date.now() + 31 * DAY_MS))).toBe(4);
    await sealedChainOf(2);
    expect(await auditVerify()).toMatchObject({
      code: 0,
      line: expect.stringMatching(/2 rows checked from the checkpoint at chain_seq 9, last chain_seq 11$/),
    });

    await bed.dataSource.query('UPDATE metadata.audit_checkpoints SET chain_seq = 10 WHERE chain_seq = 9');
    expect(await auditVerify()).toEqual({
      code: 1,
      line: 'audit:verify: audit chain broken at chain_seq 10: checkpoint: the latest checkpoint does not carry a valid signature (forged or edited)',
    });
  });

  it('does not prune a segment that does not verify', async () => {
    await bed.appendUserEvents(5, new Date(Date.now() - 31 * DAY_MS));
    await bed.sealer.seal();
    await bed.dataSource.query(`UPDATE metadata.audit_log SET operation = 'file.download' WHERE chain_seq = 2`);
    await expect(bed.retention.prune()).rejects.toThrow(
      `not pruning the audit log: audit chain broken at chain_seq 2, row id ${await rowAt(2)}: edited`,
    );
    expect(await bed.dataSource.query('SELECT count(*)::int AS n FROM metadata.audit_checkpoints')).toEqual([{ n: 0 }]);
  });

  it('verifies with the new master key alone after a rotation, rows sealed before, during and after it', async () => {
    const newKey = randomBytes(32);
    await sealedChainOf(3);
    // The rotation window: services restarted with the new key, the old one as MASTER_KEY_PREVIOUS.
    await bed.appendUserEvents(2);
    expect(await sealWith(await chainUnder(newKey, bed.key))).toBe(2);
    expect(await run(ROTATE_MASTER_CLI, [newKey, bed.key])).toMatchObject({
      code: 0,
      line: expect.stringContaining('0 user keys re-wrapped, the audit chain keys re-wrapped and 0 data keys moved'),
    });
    expect(await run(ROTATE_MASTER_CLI, [newKey, bed.key])).toMatchObject({
      code: 0,
      line: expect.stringContaining('0 user keys re-wrapped and 0 data keys moved'),
    });
    await bed.appendUserEvents(2);
    expect(await sealWith(await chainUnder(newKey))).toBe(2);

    expect(await auditVerify(newKey)).toEqual({
      code: 0,
      line: 'audit:verify: audit chain intact: 7 rows checked from the first row, last chain_seq 7',
    });
    expect(await auditVerify(bed.key)).toEqual({
      code: 1,
      line: `audit:verify: failed to start: the audit chain's key set was wrapped under master key ${masterKey(newKey).id}, this service has ${masterKey(bed.key).id}`,
    });
  });

  it('keeps verifying a chain sealed before it had keys of its own, through a rotation, and continues it', async () => {
    // As the chain was keyed before: each of its keys derived from the master key by KeyedHash.
    const master = masterKey(bed.key);
    const before = masterDerivedAuditChainKeys(master);
    ['audit chain link', 'audit chain personal fields', 'audit chain checkpoint'].forEach((purpose, i) =>
      expect(
        new KeyedHash(before.subarray(i * 32, (i + 1) * 32)).digest('x').equals(KeyedHash.derived(master, purpose).digest('x')),
      ).toBe(true),
    );
    await bed.dataSource.query('DELETE FROM metadata.audit_chain_keys');
    await bed.appendUserEvents(5, new Date(Date.now() - 31 * DAY_MS));
    await bed.appendUserEvents(3);
    const chain = new AuditChain(before);
    expect(await sealWith(chain)).toBe(8);
    const repository = new AuditChainRepository();
    const verifier = new AuditVerifier(bed.dataSource, repository, chain);
    expect(await new AuditRetention({ AUDIT_RETENTION_DAYS: 30 }, bed.dataSource, repository, verifier, chain).prune()).toBe(5);

    expect(await auditVerify()).toEqual({
      code: 0,
      line: 'audit:verify: audit chain intact: 3 rows checked from the checkpoint at chain_seq 5, last chain_seq 8',
    });
    const newKey = randomBytes(32);
    expect(await run(ROTATE_MASTER_CLI, [newKey, bed.key])).toMatchObject({ code: 0 });
    await bed.appendUserEvents(1);
    expect(await sealWith(await chainUnder(newKey))).toBe(1);
    expect(await auditVerify(newKey)).toEqual({
      code: 0,
      line: 'audit:verify: audit chain intact: 4 rows checked from the checkpoint at chain_seq 5, last chain_seq 9',
    });
  });

  it('stores one set of chain keys, however many processes race to make them', async () => {
    await bed.dataSource.query('DELETE FROM metadata.audit_chain_keys');
    const chains = await Promise.all(Array.from({ length: 8 }, () => chainUnder(bed.key)));
    const checkpoint = { chainSeq: '1', mac: Buffer.alloc(32), prunedBefore: '0', createdAt: '0' };
    expect(new Set(chains.map((chain) => chain.signCheckpoint(checkpoint).toString('hex'))).size).toBe(1);
    expect(await bed.dataSource.query('SELECT count(*)::int AS n FROM metadata.audit_chain_keys')).toEqual([{ n: 1 }]);
  });
});
