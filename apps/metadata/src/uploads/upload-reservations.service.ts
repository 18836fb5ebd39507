import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { MetadataConfig } from '@cloudstore/config';
import { type DomainError, InvalidArgumentError, QuotaExceededError } from '@cloudstore/contracts';
import type { EntityManager } from 'typeorm';
import { METADATA_CONFIG } from '../metadata.tokens';
import { type QuotaRow, QuotasRepository } from '../quotas/quotas.repository';
import { isUuid } from '../uuid';
import type { UploadEntity } from './upload.entity';
import { UploadsRepository } from './uploads.repository';
import type { DataSource } from 'typeorm';

export function uploadNotFound(): DomainError {
  return new InvalidArgumentError('The upload is not open any more (finished, or aborted after being idle)');
}

/** What a reservation attempt found: the bytes are held, the upload must wait, or it cannot fit. */
export type Room = 'covered' | 'wait' | 'refused';

/** First and longest pause between attempts of an upload that waits for room. */
const FIRST_RETRY_MS = 50;
const LONGEST_RETRY_MS = 500;

/**
 * Quota reservations of uploads, fair under concurrency (wound-wait by upload start time).
 *
 * An upload of declared size reserves it whole at start, against everything committed and held.
 * An upload of undeclared size reserves chunk by chunk; when the free room is not enough:
 * - it takes the room from reservations of younger uploads of undeclared size (youngest first)
 *   if what is committed plus what older uploads and declared ones hold leaves it room;
 * - it is refused at once when it cannot fit even alone, given what is committed;
 * - otherwise older uploads hold the room: it waits for them to commit or abort, at most
 *   QUOTA_WAIT_SECONDS, and is refused after that.
 * A wounded upload keeps its stored chunks, but must cover them again, by the same rule, before
 * it stores more or commits: used bytes never pass the limit. Every decision runs in one
 * transaction under the owner's quota row lock, so it sees and changes a consistent state.
 */
@Injectable()
export class UploadReservationsService {
  constructor(
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    private readonly uploads: UploadsRepository,
    private readonly quotas: QuotasRepository,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * Runs `work` in a transaction that holds the owner's quota row and the open upload, once the
   * upload's reservation covers `bytesOf(upload)` (which may also check the upload and throw).
   * Waits while older uploads hold the room; throws QuotaExceededError when refused.
   */
  async withRoom<T>(
    uploadId: string,
    ownerId: string,
    bytesOf: (manager: EntityManager, upload: UploadEntity) => Promise<number> | number,
    work: (manager: EntityManager, upload: UploadEntity) => Promise<T>,
  ): Promise<T> {
    if (!isUuid(uploadId) || !isUuid(ownerId)) throw uploadNotFound();
    const deadline = Date.now() + this.config.QUOTA_WAIT_SECONDS * 1000;
    for (let pause = FIRST_RETRY_MS; ; pause = Math.min(pause * 2, LONGEST_RETRY_MS)) {
      const attempt = await this.dataSource.transaction(
        async (manager): Promise<{ room: 'covered'; result: T } | { room: 'wait' | 'refused' }> => {
          const quota = await this.quotas.lock(ownerId, manager);
          const upload = await this.uploads.lockOpen(manager, uploadId, ownerId);
          if (!quota || !upload) throw uploadNotFound();
          const room = await this.cover(manager, upload, quota, await bytesOf(manager, upload));
          // A waiting upload is alive (its gateway holds the call): the idle sweep must not take it.
          if (room === 'wait') await this.uploads.update(manager, upload.id, {});
          return room === 'covered' ? { room, result: await work(manager, upload) } : { room };
        },
      );
      if (attempt.room === 'covered') return attempt.result;
      if (attempt.room === 'refused' || Date.now() + pause > deadline) {
        throw new QuotaExceededError('The upload passed your storage quota');
      }
      // Older uploads end by commit, abort or the idle sweep, in this or another metadata replica:
      // polling the database sees all of them.
      await sleep(pause);
    }
  }

  /**
   * Makes the upload's reservation cover `bytes`, by the rule above. Needs the owner's quota row
   * locked (`quota` read under that lock) before the upload's row; changes nothing unless covered.
   */
  async cover(manager: EntityManager, upload: UploadEntity, quota: QuotaRow, bytes: number): Promise<Room> {
    const missing = bytes - upload.reservedBytes;
    if (missing <= 0) return 'covered';
    const { limitBytes: limit, usedBytes: used, reservedBytes: reserved } = quota;
    let taken = 0;
    if (limit !== null && used + reserved + missing > limit) {
      // A declared size was reserved whole; an upload that cannot fit alone never will.
      if (upload.declaredSize >= 0 || used + bytes > limit) return 'refused';
      if (used + (await this.uploads.reservedAhead(manager, upload)) + bytes > limit) return 'wait';
      const wanted = missing - Math.max(0, limit - used - reserved);
      taken = await this.uploads.takeFromYounger(manager, upload, wanted);
      // The owner's reservation is the sum of its open uploads' (kept so under this same lock):
      // younger uploads hold at least what is wanted.
      if (taken !== wanted) throw new Error(`reservations out of step for ${upload.ownerId}: took ${taken} of ${wanted}`);
    }
    if (missing > taken && !(await this.quotas.reserve(upload.ownerId, missing - taken, manager))) {
      throw new Error(`reservations out of step for ${upload.ownerId}: ${missing - taken} bytes did not fit`);
    }
    await this.uploads.update(manager, upload.id, { reservedBytes: bytes });
    upload.reservedBytes = bytes;
    return 'covered';
  }
}
