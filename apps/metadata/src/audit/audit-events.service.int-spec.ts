import { randomUUID } from 'node:crypto';
import type { auditApi } from '@cloudstore/contracts';
import { createTestDataSource, newOrigin, type TestDataSource } from '@cloudstore/testing';
import { createMetadataDataSource, METADATA_SCHEMA } from '../database/metadata-data-source';
import { fileAuditEvent } from './audit-entry';
import { AuditEventsRepository } from './audit-events.repository';
import { AuditEventsService } from './audit-events.service';
import { AuditAppends } from './audit-appends';
import { AuditLogRepository } from './audit-log.repository';

function request(fields: Partial<auditApi.ListAuditEventsRequest> = {}): auditApi.ListAuditEventsRequest {
  return { limit: 0, cursor: '', operation: '', outcome: '', from: 0, to: 0, userId: '', ...fields };
}

describe(AuditEventsService.name, () => {
  let db: TestDataSource;
  let auditLog: AuditLogRepository;
  let sut: AuditEventsService;

  beforeAll(async () => {
    db = await createTestDataSource(createMetadataDataSource, METADATA_SCHEMA);
    auditLog = new AuditLogRepository(db.dataSource, new AuditAppends());
    sut = new AuditEventsService(new AuditEventsRepository(db.dataSource));
  });

  afterAll(async () => {
    await db.drop();
  });

  it('shows an event with its file, origin and time in Unix seconds', async () => {
    const userId = randomUUID();
    const origin = newOrigin();
    const event = {
      ...fileAuditEvent({
        operation: 'file.download',
        status: 'success',
        userId,
        username: 'alice',
        fileId: randomUUID(),
        filename: 'a.txt',
        sizeBytes: 12,
        origin,
        details: { range: '0-9' },
      }),
      occurredAt: '2024-05-01T10:00:00.900Z',
    };
    await auditLog.append([event]);
    expect(await sut.listOwn(request(), userId)).toEqual({
      events: [
        {
          eventId: event.eventId,
          occurredAt: 1_714_557_600,
          operation: 'file.download',
          outcome: 'success',
          errorCode: '',
          userId,
          username: 'alice',
          clientAddress: origin.clientAddress,
          userAgent: origin.userAgent,
          fileId: event.fileId,
          filename: 'a.txt',
          sizeBytes: 12,
          sessionId: '',
          details: { range: '0-9' },
        },
      ],
      nextCursor: '',
    });
  });

  it('names the session an event is about, and never shows a detail not known to be safe', async () => {
    const userId = randomUUID();
    const sessionId = randomUUID();
    await auditLog.append([
      fileAuditEvent({
        operation: 'auth.session_revoke',
        status: 'success',
        userId,
        details: { sessionId, current: false, attempted: 'hmac-sha256:abc', somethingNew: 'x' },
      }),
    ]);
    const [event] = (await sut.listOwn(request(), userId)).events;
    expect(event?.sessionId).toBe(sessionId);
    expect(event?.details).toEqual({ current: 'false' });
  });

  it("lists the caller's own events whatever user_id the request names", async () => {
    const alice = randomUUID();
    const bob = randomUUID();
    await auditLog.append([fileAuditEvent({ operation: 'file.upload', status: 'success', userId: bob })]);
    expect((await sut.listOwn(request({ userId: bob }), alice)).events).toEqual([]);
    expect((await sut.listAll(request({ userId: bob.toUpperCase() }))).events.map((e) => e.userId)).toEqual([bob]);
  });

  it('pages with an opaque cursor that the next request gives back', async () => {
    const userId = randomUUID();
    await auditLog.append(
      Array.from({ length: 5 }, () => fileAuditEvent({ operation: 'file.upload', status: 'success', userId })),
    );
    const seen: string[] = [];
    let cursor = '';
    do {
      const page = await sut.listOwn(request({ limit: 2, cursor }), userId);
      expect(page.events.length).toBeLessThanOrEqual(2);
      seen.push(...page.events.map((e) => e.eventId));
      cursor = page.nextCursor;
      expect(cursor).toMatch(/^[A-Za-z0-9_-]*$/);
    } while (cursor);
    expect(new Set(seen).size).toBe(5);
  });

  it.each([
    ['an outcome that is neither', { outcome: 'ok' }, 'outcome must be success or failure'],
    ['an operation with a space', { operation: 'file upload' }, 'operation must be an operation'],
    ['an operation with a * inside', { operation: 'file.*.x' }, 'operation must be an operation'],
    ['a negative from', { from: -1 }, 'from must be Unix seconds'],
    ['from after to', { from: 20, to: 10 }, 'from must not be after to'],
    ['a negative limit', { limit: -1 }, 'limit must not be negative'],
    ['a cursor not made here', { cursor: 'bm90LWEtY3Vyc29y' }, 'cursor must be the next_cursor of a listing'],
    ['a file listing cursor', { cursor: Buffer.from(`1.${randomUUID()}`).toString('base64url') }, 'cursor must be'],
  ])('refuses %s with INVALID_ARGUMENT', async (_case, fields, message) => {
    await expect(sut.listOwn(request(fields), randomUUID())).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining(message) as string,
    });
  });

  it('refuses a user_id that is not a UUID with INVALID_ARGUMENT', async () => {
    await expect(sut.listAll(request({ userId: 'bob' }))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'user_id must be a UUID',
    });
  });
});
