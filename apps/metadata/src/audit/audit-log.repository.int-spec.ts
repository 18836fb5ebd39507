import { randomUUID } from 'node:crypto';
import { createTestDataSource, newOrigin, type TestDataSource } from '@cloudstore/testing';
import type { DataSource } from 'typeorm';
import { createMetadataDataSource, METADATA_SCHEMA } from '../database/metadata-data-source';
import { fileAuditEvent } from './audit-entry';
import { AuditAppends } from './audit-appends';
import { AuditLogRepository } from './audit-log.repository';

describe(AuditLogRepository.name, () => {
  let db: TestDataSource;
  let dataSource: DataSource;
  let sut: AuditLogRepository;

  beforeAll(async () => {
    db = await createTestDataSource(createMetadataDataSource, METADATA_SCHEMA);
    dataSource = db.dataSource;
    sut = new AuditLogRepository(dataSource, new AuditAppends());
  });

  afterAll(async () => {
    await db.drop();
  });

  function rowsOf(userId: string) {
    return dataSource.query<Record<string, unknown>[]>(
      `SELECT event_id, operation, status, error_code, user_id, client_address, user_agent, file_id, filename, size_bytes, details
       FROM metadata.audit_log WHERE user_id = $1 ORDER BY occurred_at`,
      [userId],
    );
  }

  it('writes every field of an event', async () => {
    const userId = randomUUID();
    const origin = newOrigin();
    const event = fileAuditEvent({
      operation: 'file.upload',
      status: 'failure',
      errorCode: 'QUOTA_EXCEEDED',
      userId,
      fileId: randomUUID(),
      filename: 'a.bin',
      sizeBytes: 12,
      origin,
      details: { reason: 'test' },
    });
    await sut.append([event]);
    expect(await rowsOf(userId)).toEqual([
      {
        event_id: event.eventId,
        operation: 'file.upload',
        status: 'failure',
        error_code: 'QUOTA_EXCEEDED',
        user_id: userId,
        client_address: origin.clientAddress,
        user_agent: 'jest',
        file_id: event.fileId,
        filename: 'a.bin',
        size_bytes: '12',
        details: { reason: 'test' },
      },
    ]);
  });

  describe('hostile input: an event always writes', () => {
    it('writes an auth event whose username holds U+0000, without it', async () => {
      const userId = randomUUID();
      await sut.append([
        { ...fileAuditEvent({ operation: 'auth.register', status: 'failure', userId }), username: 'ad\u0000min' },
      ]);
      const [row] = await dataSource.query<{ username: string }[]>('SELECT username FROM metadata.audit_log WHERE user_id = $1', [
        userId,
      ]);
      expect(row?.username).toBe('admin');
    });

    it('writes a failed-login username cut by slice(0, 64) inside an emoji, well formed', async () => {
      const userId = randomUUID();
      const attempted = `${'a'.repeat(63)}\u{1f600}`.slice(0, 64);
      await sut.append([fileAuditEvent({ operation: 'auth.login', status: 'failure', userId, details: { attempted } })]);
      expect((await rowsOf(userId))[0]?.['details']).toEqual({ attempted: `${'a'.repeat(63)}\ufffd` });
    });

    it('writes a refused filename with U+0000 and control characters, a huge user agent, and ids that are not UUIDs', async () => {
      const userId = randomUUID();
      const event = fileAuditEvent({
        operation: 'file.upload',
        status: 'failure',
        errorCode: 'INVALID_FILENAME',
        userId,
        filename: `a\u0000b\u202e${'x'.repeat(5000)}`,
        origin: { clientAddress: '203.0.113.9', userAgent: 'ua\u0000'.repeat(1000) },
      });
      await sut.append([{ ...event, fileId: 'not-a-uuid', sizeBytes: Number.NaN }]);
      const [row] = await rowsOf(userId);
      expect(row?.['filename']).toBe(`ab\u202e${'x'.repeat(1021)}`);
      expect(row?.['file_id']).toBeNull();
      expect(row?.['size_bytes']).toBeNull();
      expect(String(row?.['user_agent'])).not.toContain('\u0000');
    });
  });

  it('writes an event delivered twice (or twice at once) once', async () => {
    const userId = randomUUID();
    const event = fileAuditEvent({ operation: 'file.delete', status: 'success', userId });
    await sut.append([event]);
    await Promise.all([
      sut.append([event]),
      sut.append([event, fileAuditEvent({ operation: 'file.delete', status: 'success', userId })]),
    ]);
    expect(await rowsOf(userId)).toHaveLength(2);
  });

  it('writes nothing when the transaction it belongs to rolls back', async () => {
    const userId = randomUUID();
    await expect(
      dataSource.transaction(async (manager) => {
        await sut.append([fileAuditEvent({ operation: 'file.upload', status: 'success', userId })], manager);
        throw new Error('the commit failed');
      }),
    ).rejects.toThrow('the commit failed');
    expect(await rowsOf(userId)).toEqual([]);
  });
});
