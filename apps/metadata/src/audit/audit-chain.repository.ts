import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ChainCheckpoint, ChainLink, ChainRow } from './audit-chain';

/** One advisory lock serialises everything that moves the chain's ends: sealing and pruning. */
const CHAIN_LOCK = 'cloudstore:audit-chain';

/** Timestamps as exact epoch microseconds: a float or a driver's Date would round them. */
const MICROS = (column: string) => `(extract(epoch FROM ${column}) * 1000000)::bigint::text`;
const FROM_MICROS = (parameter: string) => `(timestamptz 'epoch' + ${parameter}::bigint * interval '1 microsecond')`;

/** The columns of a ChainRow, in their canonical text forms. */
const CHAIN_ROW_COLUMNS = `
  id::text AS "id", chain_seq::text AS "chainSeq", event_id::text AS "eventId",
  ${MICROS('occurred_at')} AS "occurredAt", ${MICROS('recorded_at')} AS "recordedAt",
  operation, status, error_code AS "errorCode", user_id::text AS "userId", username,
  client_address AS "clientAddress", user_agent AS "userAgent", subject_user_id::text AS "subjectUserId",
  file_id::text AS "fileId", filename,
  size_bytes::text AS "sizeBytes", details::text AS "details", mac, personal_digest AS "personalDigest",
  subject_digest AS "subjectDigest",
  erased_as::text AS "erasedAs"`;

const CHECKPOINT_COLUMNS = `chain_seq::text AS "chainSeq", mac, ${MICROS('pruned_before')} AS "prunedBefore",
  ${MICROS('created_at')} AS "createdAt", signature`;

export interface RowSeal {
  readonly id: string;
  readonly chainSeq: bigint;
  readonly mac: Buffer;
  readonly personalDigest: Buffer;
  readonly subjectDigest: Buffer | null;
}

/** The SQL of the audit chain: sealing, reading it in order, checkpoints and pruning. */
@Injectable()
export class AuditChainRepository {
  /** Takes the chain lock for the transaction; false when another sealer holds it. */
  async tryLockChain(manager: EntityManager): Promise<boolean> {
    const [row] = await manager.query<{ locked: boolean }[]>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked', [
      CHAIN_LOCK,
    ]);
    return row?.locked === true;
  }

  /** Waits for the chain lock, held until the transaction ends. */
  async lockChain(manager: EntityManager): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [CHAIN_LOCK]);
  }

  /** The last sealed row, or else the latest checkpoint; undefined for a chain not begun. */
  async tail(manager: EntityManager): Promise<ChainLink | undefined> {
    const [row] = await manager.query<{ chainSeq: string; mac: Buffer }[]>(
      `SELECT seq::text AS "chainSeq", mac FROM (
         (SELECT chain_seq AS seq, mac FROM metadata.audit_log WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1)
         UNION ALL (SELECT chain_seq, mac FROM metadata.audit_checkpoints ORDER BY chain_seq DESC LIMIT 1)
       ) ends ORDER BY seq DESC LIMIT 1`,
    );
    return row ? { chainSeq: BigInt(row.chainSeq), mac: row.mac } : undefined;
  }

  /** The oldest unsealed rows, in insertion order, locked so nothing changes them while they are sealed. */
  async unsealed(manager: EntityManager, limit: number): Promise<ChainRow[]> {
    return manager.query<ChainRow[]>(
      `SELECT ${CHAIN_ROW_COLUMNS} FROM metadata.audit_log WHERE chain_seq IS NULL ORDER BY id LIMIT $1 FOR UPDATE`,
      [limit],
    );
  }

  async markSealed(manager: EntityManager, seals: readonly RowSeal[]): Promise<void> {
    if (seals.length === 0) return;
    await manager.query(
      `UPDATE metadata.audit_log AS a
       SET chain_seq = s.seq, mac = s.mac, personal_digest = s.digest, subject_digest = s.subject_digest
       FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[], $5::bytea[]) AS s(id, seq, mac, digest, subject_digest)
       WHERE a.id = s.id`,
      [
        seals.map((s) => s.id),
        seals.map((s) => s.chainSeq.toString()),
        seals.map((s) => s.mac),
        seals.map((s) => s.personalDigest),
        seals.map((s) => s.subjectDigest),
      ],
    );
  }

  /** Sealed rows after `afterSeq` (up to `throughSeq`), in chain order, a page at a time. */
  async *sealedRows(manager: EntityManager, afterSeq: bigint, pageSize: number, throughSeq?: bigint): AsyncGenerator<ChainRow[]> {
    let after = afterSeq;
    for (;;) {
      const page = await manager.query<ChainRow[]>(
        `SELECT ${CHAIN_ROW_COLUMNS} FROM metadata.audit_log
         WHERE chain_seq > $1 AND ($2::bigint IS NULL OR chain_seq <= $2) ORDER BY chain_seq LIMIT $3`,
        [after.toString(), throughSeq?.toString() ?? null, pageSize],
      );
      if (page.length === 0) return;
      yield page;
      after = BigInt(page[page.length - 1]?.chainSeq ?? '0');
    }
  }

  async latestCheckpoint(manager: EntityManager): Promise<ChainCheckpoint | undefined> {
    const [row] = await manager.query<ChainCheckpoint[]>(
      `SELECT ${CHECKPOINT_COLUMNS} FROM metadata.audit_checkpoints ORDER BY chain_seq DESC LIMIT 1`,
    );
    return row;
  }

  /** The oldest row still unsealed `graceSeconds` after it was written. */
  async staleUnsealed(manager: EntityManager, graceSeconds: number): Promise<{ id: string; ageSeconds: number } | undefined> {
    const [row] = await manager.query<{ id: string; ageSeconds: number }[]>(
      `SELECT id::text AS "id", extract(epoch FROM now() - recorded_at)::int AS "ageSeconds" FROM metadata.audit_log
       WHERE chain_seq IS NULL AND recorded_at < now() - make_interval(secs => $1) ORDER BY id LIMIT 1`,
      [graceSeconds],
    );
    return row;
  }

  /**
   * The end of the longest run of sealed rows right after `afterSeq`, at most `limit` long, that
   * all occurred before `cutoff`, with its mac: what pruning may remove behind a checkpoint.
   */
  async prunableThrough(manager: EntityManager, afterSeq: bigint, cutoff: Date, limit: number): Promise<ChainLink | undefined> {
    const [row] = await manager.query<{ chainSeq: string; mac: Buffer }[]>(
      `WITH head AS (
         SELECT chain_seq, occurred_at, mac FROM metadata.audit_log
         WHERE chain_seq > $1 ORDER BY chain_seq LIMIT $2
       ), young AS (SELECT min(chain_seq) AS seq FROM head WHERE occurred_at >= $3)
       SELECT chain_seq::text AS "chainSeq", mac FROM head
       WHERE chain_seq < COALESCE((SELECT seq FROM young), 9223372036854775807)
       ORDER BY chain_seq DESC LIMIT 1`,
      [afterSeq.toString(), limit, cutoff],
    );
    return row ? { chainSeq: BigInt(row.chainSeq), mac: row.mac } : undefined;
  }

  async addCheckpoint(manager: EntityManager, checkpoint: ChainCheckpoint): Promise<void> {
    await manager.query(
      `INSERT INTO metadata.audit_checkpoints (chain_seq, mac, pruned_before, created_at, signature)
       VALUES ($1, $2, ${FROM_MICROS('$3')}, ${FROM_MICROS('$4')}, $5)`,
      [checkpoint.chainSeq, checkpoint.mac, checkpoint.prunedBefore, checkpoint.createdAt, checkpoint.signature],
    );
  }

  /** Deletes the sealed rows up to and including `throughSeq`; how many. */
  async deleteThrough(manager: EntityManager, throughSeq: bigint): Promise<number> {
    const [, count] = await manager.query<[unknown, number]>('DELETE FROM metadata.audit_log WHERE chain_seq <= $1', [
      throughSeq.toString(),
    ]);
    return count;
  }

  /** Makes a REPEATABLE READ transaction read-only: a verification reads one snapshot and writes nothing. */
  async readOnly(manager: EntityManager): Promise<void> {
    await manager.query('SET TRANSACTION READ ONLY');
  }
}
