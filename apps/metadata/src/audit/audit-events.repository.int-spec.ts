import { randomUUID } from 'node:crypto';
import { createTestDataSource, type TestDataSource, uniqueName } from '@cloudstore/testing';
import { createMetadataDataSource, METADATA_SCHEMA } from '../database/metadata-data-source';
import type { ListPosition } from '../files/list-cursor';
import { fileAuditEvent, nodeAuditEvent } from './audit-entry';
import { type AuditEventFilter, AuditEventsRepository } from './audit-events.repository';
import { AuditAppends } from './audit-appends';
import { AuditLogRepository } from './audit-log.repository';

describe(AuditEventsRepository.name, () => {
  let db: TestDataSource;
  let auditLog: AuditLogRepository;
  let sut: AuditEventsRepository;

  beforeAll(async () => {
    db = await createTestDataSource(createMetadataDataSource, METADATA_SCHEMA);
    auditLog = new AuditLogRepository(db.dataSource, new AuditAppends());
    sut = new AuditEventsRepository(db.dataSource);
  });

  afterAll(async () => {
    await db.drop();
  });

  /** Writes an event at `at` (Unix seconds, or a Date for sub-second times) and returns its id. */
  async function write(
    userId: string | undefined,
    operation: string,
    at: number | Date,
    status: 'success' | 'failure' = 'success',
  ): Promise<string> {
    const event = {
      ...(userId ? fileAuditEvent({ operation, status, userId }) : nodeAuditEvent(operation, 'node-0')),
      occurredAt: (typeof at === 'number' ? new Date(at * 1000) : at).toISOString(),
    };
    await auditLog.append([event]);
    return event.eventId;
  }

  /** Every page of a listing, `size` at a time, as the ids of their events. */
  async function allPages(filter: AuditEventFilter, size: number): Promise<string[][]> {
    const pages: string[][] = [];
    let after: ListPosition | undefined;
    for (;;) {
      const rows = await sut.page(filter, size + 1, after);
      const page = rows.slice(0, size);
      pages.push(page.map((e) => e.eventId));
      if (rows.length <= size) return pages;
      after = page.at(-1)?.position;
    }
  }

  it("answers one user's events only, newest first, with every field", async () => {
    const alice = randomUUID();
    const bob = randomUUID();
    const first = await write(alice, 'file.upload', 1_700_000_000);
    await write(bob, 'file.upload', 1_700_000_001);
    const second = await write(alice, 'file.delete', 1_700_000_002, 'failure');

    const events = await sut.page({ userId: alice }, 10);
    expect(events.map((e) => e.eventId)).toEqual([second, first]);
    expect(events[0]).toMatchObject({
      operation: 'file.delete',
      status: 'failure',
      userId: alice,
      occurredAt: new Date(1_700_000_002_000),
      position: { atMicros: '1700000002000000' },
    });
    expect(await sut.page({ userId: randomUUID() }, 10)).toEqual([]);
  });

  it('filters by one operation or by a prefix, literally (an _ is no wildcard)', async () => {
    const user = randomUUID();
    const upload = await write(user, 'file.upload', 1_700_000_100);
    const remove = await write(user, 'file.delete', 1_700_000_101);
    const login = await write(user, 'auth.login', 1_700_000_102);
    const otpCap = await write(user, 'auth.otp_cap', 1_700_000_103);
    await write(user, 'auth.otpXcap', 1_700_000_104);

    const ids = async (filter: Omit<AuditEventFilter, 'userId'>) =>
      (await sut.page({ userId: user, ...filter }, 10)).map((e) => e.eventId);
    expect(await ids({ operation: { exact: 'file.upload' } })).toEqual([upload]);
    expect(await ids({ operation: { prefix: 'file.' } })).toEqual([remove, upload]);
    expect(await ids({ operation: { prefix: 'auth.otp_' } })).toEqual([otpCap]);
    expect(await ids({ operation: { exact: 'file.' } })).toEqual([]);
    expect(await ids({ operation: { prefix: 'auth.login' } })).toEqual([login]);
  });

  it('filters by outcome and by a time range, from inclusive, to exclusive', async () => {
    const user = randomUUID();
    const t = 1_700_000_200;
    const e0 = await write(user, 'auth.login', t, 'failure');
    const e1 = await write(user, 'auth.login', t + 10, 'success');
    const e2 = await write(user, 'auth.login', t + 20, 'failure');
    const e3 = await write(user, 'auth.login', t + 30, 'success');

    const ids = async (filter: Omit<AuditEventFilter, 'userId'>) =>
      (await sut.page({ userId: user, ...filter }, 10)).map((e) => e.eventId);
    expect(await ids({ status: 'failure' })).toEqual([e2, e0]);
    expect(await ids({ status: 'success' })).toEqual([e3, e1]);
    expect(await ids({ fromSeconds: t + 10 })).toEqual([e3, e2, e1]);
    expect(await ids({ toSeconds: t + 20 })).toEqual([e1, e0]);
    expect(await ids({ fromSeconds: t + 10, toSeconds: t + 30, status: 'failure' })).toEqual([e2]);
    expect(await ids({ fromSeconds: t + 15, toSeconds: t + 15 })).toEqual([]);
  });

  it('pages through events of the same microsecond by id: every event exactly once, in order', async () => {
    const user = randomUUID();
    const same = new Date('2024-05-01T10:00:00.123Z');
    const older = await write(user, 'file.upload', 1_700_000_300);
    // The tied rows' ids straddle a power of ten (…98, …99, 100…): ordered as text, "100" would
    // come before "99".
    await db.dataSource.query(
      `SELECT setval(pg_get_serial_sequence('metadata.audit_log', 'id'), (10 ^ ceil(log(nextval(pg_get_serial_sequence('metadata.audit_log', 'id')) + 5)))::bigint - 4)`,
    );
    const tied: string[] = [];
    for (let i = 0; i < 7; i += 1) tied.push(await write(user, 'file.upload', same));
    const newer = await write(user, 'file.upload', new Date(same.getTime() + 1));

    const pages = await allPages({ userId: user }, 3);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 3]);
    // Ties come newest-written first: the log's ids grow with each write.
    expect(pages.flat()).toEqual([newer, ...tied.reverse(), older]);
  });

  it('pages a page past the last one as empty, and keeps the filter across pages', async () => {
    const user = randomUUID();
    const mine: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      mine.push(await write(user, 'file.download', 1_700_000_400 + i));
      await write(user, 'auth.refresh', 1_700_000_400 + i);
    }
    const pages = await allPages({ userId: user, operation: { exact: 'file.download' } }, 2);
    expect(pages.flat()).toEqual([...mine].reverse());
    const last = (await sut.page({ userId: user }, 10)).at(-1);
    expect(await sut.page({ userId: user }, 10, last?.position)).toEqual([]);
  });

  it("lists everyone's events without a user, events of no user too", async () => {
    const operation = `${uniqueName('test')}.event`;
    const alice = await write(randomUUID(), operation, 1_700_000_500);
    const node = await write(undefined, operation, 1_700_000_501);
    const bob = await write(randomUUID(), operation, 1_700_000_502);
    const events = await sut.page({ operation: { exact: operation } }, 10);
    expect(events.map((e) => e.eventId)).toEqual([bob, node, alice]);
    expect(events[1]?.userId).toBeNull();
  });
});
