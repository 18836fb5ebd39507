import { randomUUID } from 'node:crypto';
import { adminAuditEvent, fileAuditEvent } from './audit-entry';
import { createAuditTestbed, type AuditTestbed } from './audit-chain.test-helper';
import { AuditSealer } from './audit-sealer';

describe(AuditSealer.name, () => {
  let bed: AuditTestbed;

  beforeEach(async () => {
    bed = await createAuditTestbed();
  });

  afterEach(async () => {
    await bed.db.drop();
  });

  async function chainOrder(): Promise<{ id: string; chain_seq: string | null }[]> {
    return bed.dataSource.query(`SELECT id::text, chain_seq::text FROM metadata.audit_log a ORDER BY a.chain_seq`);
  }

  it('seals many appends made at once from several connections, with several sealers racing, into one gap-free chain', async () => {
    const replicas = await Promise.all([bed.replica(), bed.replica(), bed.replica()]);
    try {
      let appending = true;
      const sealing = replicas.map(async (replica) => {
        while (appending) await replica.sealer.seal();
      });
      await Promise.all(
        replicas.flatMap((replica) =>
          Array.from({ length: 20 }, async () => {
            for (let i = 0; i < 5; i++) await replica.auditLog.append(twoEvents());
          }),
        ),
      );
      appending = false;
      await Promise.all(sealing);
      await bed.sealer.seal();
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
    const rows = await chainOrder();
    expect(rows).toHaveLength(3 * 20 * 5 * 2);
    expect(rows.map((r) => r.chain_seq)).toEqual(rows.map((_, i) => String(i + 1)));
    expect(await bed.verifier.verify()).toEqual({
      rowsChecked: rows.length,
      lastSeq: String(rows.length),
      checkpointSeq: null,
      broken: undefined,
    });
  });

  it('seals rows in insertion order and continues the chain on the next round', async () => {
    await bed.appendUserEvents(3);
    expect(await bed.sealer.seal()).toBe(3);
    await bed.appendUserEvents(2);
    expect(await bed.sealer.seal()).toBe(2);
    const byId = await bed.dataSource.query<{ chain_seq: string }[]>(
      'SELECT chain_seq::text FROM metadata.audit_log ORDER BY id',
    );
    expect(byId.map((r) => r.chain_seq)).toEqual(['1', '2', '3', '4', '5']);
    expect((await bed.verifier.verify()).broken).toBeUndefined();
  });

  it('keeps verifying after a user is pseudonymised, and detects a pseudonymised row whose fields were then edited', async () => {
    const erased = await bed.appendUserEvents(3);
    await bed.appendUserEvents(2);
    await bed.sealer.seal();
    const pseudonym = randomUUID();
    expect(await bed.auditLog.pseudonymiseUser({ id: erased }, pseudonym)).toBe(3);
    // Rows written after the erasure's append but before sealing are pseudonymised too, and still seal.
    const late = await bed.appendUserEvents(1);
    expect(await bed.auditLog.pseudonymiseUser({ id: late }, randomUUID())).toBe(1);
    await bed.sealer.seal();
    expect(
      await bed.dataSource.query(
        `SELECT DISTINCT user_id::text, username, client_address, user_agent, filename, erased_as::text
         FROM metadata.audit_log WHERE erased_as = $1`,
        [pseudonym],
      ),
    ).toEqual([
      { user_id: pseudonym, username: null, client_address: null, user_agent: null, filename: null, erased_as: pseudonym },
    ]);
    expect(await bed.verifier.verify()).toMatchObject({ rowsChecked: 6, broken: undefined });

    const [row] = await bed.dataSource.query<{ id: string; chain_seq: string }[]>(
      'SELECT id::text, chain_seq::text FROM metadata.audit_log WHERE erased_as = $1 ORDER BY chain_seq LIMIT 1',
      [pseudonym],
    );
    await bed.dataSource.query(`UPDATE metadata.audit_log SET username = 'someone-else' WHERE id = $1`, [row?.id]);
    expect((await bed.verifier.verify()).broken).toMatchObject({ kind: 'edited', chainSeq: row?.chain_seq, rowId: row?.id });
  });

  it('pseudonymises the erased user where an admin acted on them and where only their name was written, and keeps verifying', async () => {
    const erased = randomUUID();
    const admin = { userId: randomUUID(), username: 'root' };
    await bed.auditLog.append([
      adminAuditEvent(admin, 'admin.quota_update', { quotaBytes: 5 }, erased),
      {
        eventId: randomUUID(),
        occurredAt: new Date().toISOString(),
        operation: 'auth.register',
        status: 'failure',
        username: 'Erin',
      },
      {
        eventId: randomUUID(),
        occurredAt: new Date().toISOString(),
        operation: 'auth.register',
        status: 'failure',
        username: 'erik',
      },
    ]);
    await bed.sealer.seal();
    const pseudonym = randomUUID();
    expect(await bed.auditLog.pseudonymiseUser({ id: erased, username: 'erin' }, pseudonym)).toBe(2);
    const rows = await bed.dataSource.query<Record<string, string | null>[]>(
      `SELECT operation, user_id::text, username, subject_user_id::text, erased_as::text FROM metadata.audit_log ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        operation: 'admin.quota_update',
        user_id: admin.userId,
        username: 'root',
        subject_user_id: null,
        erased_as: pseudonym,
      },
      { operation: 'auth.register', user_id: pseudonym, username: null, subject_user_id: null, erased_as: pseudonym },
      { operation: 'auth.register', user_id: null, username: 'erik', subject_user_id: null, erased_as: null },
    ]);
    expect(await bed.verifier.verify()).toMatchObject({ rowsChecked: 3, broken: undefined });
    // The actor of a row whose subject was erased is still verified: it cannot be swapped for someone else.
    await bed.dataSource.query(`UPDATE metadata.audit_log SET username = 'mallory' WHERE operation = 'admin.quota_update'`);
    expect((await bed.verifier.verify()).broken).toMatchObject({ kind: 'edited', chainSeq: '1' });
  });

  it('reports an erased form that puts other values in place of the ones sealed', async () => {
    await bed.auditLog.append([
      adminAuditEvent({ userId: randomUUID(), username: 'root' }, 'admin.user_update', {}, randomUUID()),
    ]);
    await bed.appendUserEvents(1);
    await bed.sealer.seal();
    // A subject swapped for another account, the row "marked erased" with it.
    await bed.dataSource.query(`UPDATE metadata.audit_log SET subject_user_id = $1, erased_as = $1 WHERE chain_seq = 1`, [
      randomUUID(),
    ]);
    expect((await bed.verifier.verify()).broken).toMatchObject({ kind: 'edited', chainSeq: '1' });
  });

  const FIELDS: Record<string, string> = {
    event_id: `'${randomUUID()}'`,
    occurred_at: `occurred_at + interval '1 microsecond'`,
    recorded_at: `recorded_at - interval '1 second'`,
    operation: `'file.delete'`,
    status: `'failure'`,
    error_code: `'QUOTA_EXCEEDED'`,
    user_id: `'${randomUUID()}'`,
    username: `'mallory'`,
    client_address: `'203.0.113.66'`,
    user_agent: `'curl'`,
    subject_user_id: `'${randomUUID()}'`,
    file_id: `'${randomUUID()}'`,
    filename: `'other.bin'`,
    size_bytes: `size_bytes + 1`,
    details: `details || '{"attempt": 99}'`,
    erased_as: `user_id`,
  };

  it.each(Object.keys(FIELDS))('detects an edit of %s of a row not marked erased, at that row', async (field) => {
    await bed.appendUserEvents(5);
    await bed.sealer.seal();
    const [row] = await bed.dataSource.query<{ id: string }[]>(`SELECT id::text FROM metadata.audit_log WHERE chain_seq = 3`);
    await bed.dataSource.query(`UPDATE metadata.audit_log SET ${field} = ${FIELDS[field]} WHERE chain_seq = 3`);
    expect((await bed.verifier.verify()).broken).toMatchObject({ kind: 'edited', chainSeq: '3', rowId: row?.id });
  });

  it('reports a row the sealer has left unsealed for too long', async () => {
    await bed.appendUserEvents(1);
    await bed.sealer.seal();
    await bed.appendUserEvents(1);
    const [[row]] = await bed.dataSource.query<[{ id: string }[], number]>(
      `UPDATE metadata.audit_log SET recorded_at = now() - interval '1 hour' WHERE chain_seq IS NULL RETURNING id::text`,
    );
    expect(await bed.verifier.verify()).toMatchObject({
      rowsChecked: 1,
      broken: { kind: 'unsealed', chainSeq: null, rowId: row?.id },
    });
  });
});

/** Two events of a new user. */
function twoEvents() {
  const userId = randomUUID();
  return [0, 1].map((i) => fileAuditEvent({ operation: 'file.upload', status: 'success', userId, filename: `f${i}` }));
}
