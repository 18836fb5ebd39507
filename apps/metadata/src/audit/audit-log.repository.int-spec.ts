import { randomUUID } from 'node:crypto';
import { createTestDataSource, newOrigin, type TestDataSource } from '@cloudstore/testing';
import type { DataSource } from 'typeorm';
import { createMetadataDataSource, METADATA_SCHEMA } from '../database/metadata-data-source';
import { fileAuditEvent } from './audit-entry';
import { AuditLogRepository } from './audit-log.repository';

describe(AuditLogRepository.name, () => {
  let db: TestDataSource;
  let dataSource: DataSource;
  let sut: AuditLogRepository;

  beforeAll(async () => {
    db = await createTestDataSource(createMetadataDataSource, METADATA_SCHEMA);
    dataSource = db.dataSource;
    sut = new AuditLogRepository(dataSource);
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
