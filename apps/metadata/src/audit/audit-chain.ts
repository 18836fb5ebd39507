import { randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveKey, KeyedHash, type MasterKey } from '@cloudstore/master-key';

/**
 * An audit row as the chain reads it, every column in one canonical text form (timestamps as
 * epoch microseconds, details as PostgreSQL's normalised jsonb text): what the sealer MACs and
 * the verifier recomputes, so both read the same bytes whatever the driver would make of them.
 */
export interface ChainRow {
  readonly id: string;
  readonly chainSeq: string | null;
  readonly eventId: string;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly operation: string;
  readonly status: string;
  readonly errorCode: string | null;
  readonly userId: string | null;
  readonly username: string | null;
  readonly clientAddress: string | null;
  readonly userAgent: string | null;
  readonly subjectUserId: string | null;
  readonly fileId: string | null;
  readonly filename: string | null;
  readonly sizeBytes: string | null;
  readonly details: string;
  readonly mac: Buffer | null;
  readonly personalDigest: Buffer | null;
  readonly subjectDigest: Buffer | null;
  readonly erasedAs: string | null;
}

/** Where the chain was cut by retention, with its timestamps as epoch microseconds. */
export interface ChainCheckpoint {
  readonly chainSeq: string;
  readonly mac: Buffer;
  readonly prunedBefore: string;
  readonly createdAt: string;
  readonly signature: Buffer;
}

/** A position in the chain: its seq and mac, the next row's `prev`. */
export interface ChainLink {
  readonly chainSeq: bigint;
  readonly mac: Buffer;
}

/** What the first row links to when no checkpoint precedes it. */
export const CHAIN_START: ChainLink = { chainSeq: 0n, mac: Buffer.alloc(32) };

export type ChainBreakKind = 'edited' | 'deleted' | 'inserted' | 'unsealed' | 'checkpoint';

/** The first thing found wrong with the chain. */
export interface ChainBreak {
  readonly kind: ChainBreakKind;
  readonly chainSeq: string | null;
  readonly rowId: string | null;
  readonly detail: string;
}

/** One line for an operator: where and what. */
export function describeBreak(b: ChainBreak): string {
  const at = [b.chainSeq !== null ? `chain_seq ${b.chainSeq}` : '', b.rowId !== null ? `row id ${b.rowId}` : '']
    .filter(Boolean)
    .join(', ');
  return `audit chain broken${at ? ` at ${at}` : ''}: ${b.kind}: ${b.detail}`;
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  return a !== null && b !== null && a.length === b.length && timingSafeEqual(a, b);
}

/** The purposes of the chain's keys, in the order the stored keys hold them. */
const KEY_PURPOSES = ['audit chain link', 'audit chain personal fields', 'audit chain checkpoint'] as const;
const KEY_BYTES = 32;

/** Fresh keys for a chain not begun. */
export function newAuditChainKeys(): Buffer {
  return randomBytes(KEY_PURPOSES.length * KEY_BYTES);
}

/** The keys a chain sealed before it had keys of its own was sealed with: each derived from the master key. */
export function masterDerivedAuditChainKeys(master: MasterKey): Buffer {
  return Buffer.concat(KEY_PURPOSES.map((purpose) => deriveKey(master, `keyed hash ${purpose}`)));
}

/**
 * The keys of the audit chain, one for each purpose: row links, the digest of a row's personal
 * fields, and checkpoint signatures. They are the chain's own (AuditChainKeys), not the master
 * key's, so a master-key rotation leaves every link verifying.
 *
 * A link is HMAC(key, prev mac ‖ the row with its chain_seq), covering the personal fields only
 * through their stored digest: a GDPR erasure replaces those fields and the link still verifies,
 * while an edit of any field of a row not marked erased changes its digest or its link.
 */
export class AuditChain {
  private readonly links: KeyedHash;
  private readonly personal: KeyedHash;
  private readonly checkpoints: KeyedHash;

  constructor(keys: Buffer) {
    if (keys.length !== KEY_PURPOSES.length * KEY_BYTES) throw new Error(`the audit chain keys are ${keys.length} bytes`);
    [this.links, this.personal, this.checkpoints] = KEY_PURPOSES.map(
      (_, i) => new KeyedHash(keys.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES)),
    ) as [KeyedHash, KeyedHash, KeyedHash];
  }

  /** Keyed, so a digest left after an erasure cannot be matched against guessed names or addresses. */
  personalDigest(row: ChainRow): Buffer {
    return this.personal.digest(JSON.stringify([row.userId, row.username, row.clientAddress, row.userAgent, row.filename]));
  }

  /** The subject's own digest, so that erasing the subject leaves the actor's verifiable; none without a subject. */
  subjectDigest(row: ChainRow): Buffer | null {
    return row.subjectUserId === null ? null : this.personal.digest(JSON.stringify(['subject', row.subjectUserId]));
  }

  /** Rows without a subject link as they did before subjects existed. */
  link(prev: Buffer, chainSeq: bigint, row: ChainRow, personalDigest: Buffer, subjectDigest: Buffer | null): Buffer {
    return this.links.digest(
      prev.toString('hex'),
      JSON.stringify([
        chainSeq.toString(),
        row.id,
        row.eventId,
        row.occurredAt,
        row.recordedAt,
        row.operation,
        row.status,
        row.errorCode,
        row.fileId,
        row.sizeBytes,
        row.details,
        personalDigest.toString('hex'),
        ...(subjectDigest ? [subjectDigest.toString('hex')] : []),
      ]),
    );
  }

  signCheckpoint(checkpoint: Omit<ChainCheckpoint, 'signature'>): Buffer {
    return this.checkpoints.digest(
      checkpoint.chainSeq,
      checkpoint.mac.toString('hex'),
      checkpoint.prunedBefore,
      checkpoint.createdAt,
    );
  }

  checkpointProblem(checkpoint: ChainCheckpoint): ChainBreak | undefined {
    if (sameBytes(this.signCheckpoint(checkpoint), checkpoint.signature)) return undefined;
    return {
      kind: 'checkpoint',
      chainSeq: checkpoint.chainSeq,
      rowId: null,
      detail: 'the latest checkpoint does not carry a valid signature (forged or edited)',
    };
  }

  /**
   * Whether the row, as stored, is what was sealed at `prev`: its actor's personal fields (or their
   * erasure), its subject (or its erasure), and its link. An erasure can only blank personal
   * fields out, never put other values in their place, so it hides no edit of them.
   */
  fits(prev: Buffer, chainSeq: bigint, row: ChainRow): 'ok' | 'personal' | 'mac' {
    if (row.personalDigest === null) return 'mac';
    const actorFits = erasedActor(row)
      ? [row.username, row.clientAddress, row.userAgent, row.filename].every((field) => field === null)
      : sameBytes(this.personalDigest(row), row.personalDigest);
    const subjectFits =
      row.subjectDigest === null
        ? row.subjectUserId === null
        : row.subjectUserId === null
          ? row.erasedAs !== null
          : sameBytes(this.subjectDigest(row), row.subjectDigest);
    if (!actorFits || !subjectFits) return 'personal';
    return sameBytes(this.link(prev, chainSeq, row, row.personalDigest, row.subjectDigest), row.mac) ? 'ok' : 'mac';
  }
}

/** The row's actor was erased: its user id is the pseudonym the row is marked erased with. */
function erasedActor(row: ChainRow): boolean {
  return row.erasedAs !== null && row.userId === row.erasedAs;
}

/**
 * Walks sealed rows in chain_seq order from a start link and finds the first broken one. A row
 * that does not fit is judged by the row after it: if that one links to the bad row's stored mac,
 * the mac is genuine and the row was edited; otherwise the row was inserted or moved.
 */
export class ChainWalk {
  private prev: ChainLink;
  private suspect: { row: ChainRow; personal: boolean } | undefined;
  private checked = 0;

  constructor(
    start: ChainLink,
    private readonly chain: AuditChain,
  ) {
    this.prev = start;
  }

  get rowsChecked(): number {
    return this.checked;
  }

  /** The last row that verified. */
  get last(): ChainLink {
    return this.prev;
  }

  /** The break this row shows (or the row before it showed), or undefined while the chain holds. */
  next(row: ChainRow): ChainBreak | undefined {
    if (this.suspect) return this.judgeSuspect(row);
    const seq = BigInt(row.chainSeq ?? '0');
    const expected = this.prev.chainSeq + 1n;
    if (seq > expected)
      return {
        kind: 'deleted',
        chainSeq: expected.toString(),
        rowId: row.id,
        detail:
          seq === expected + 1n
            ? `chain_seq ${expected} is missing before this row`
            : `chain_seq ${expected} to ${seq - 1n} are missing before this row`,
      };
    if (seq < expected)
      return { kind: 'inserted', chainSeq: row.chainSeq, rowId: row.id, detail: `a second row at chain_seq ${seq}` };
    const fit = this.chain.fits(this.prev.mac, seq, row);
    if (fit !== 'ok') {
      this.suspect = { row, personal: fit === 'personal' };
      return undefined;
    }
    this.prev = { chainSeq: seq, mac: row.mac as Buffer };
    this.checked++;
    return undefined;
  }

  /** Call after the last row: a row that failed is judged without a successor. */
  finish(): ChainBreak | undefined {
    return this.suspect && this.judgeSuspect(undefined);
  }

  /**
   * The break of the row that did not fit. Inserted (or moved) when the row after it does not link
   * to its stored mac; edited when it does (so that mac is the sealer's), or when it is the last
   * row and no successor can tell.
   */
  private judgeSuspect(next: ChainRow | undefined): ChainBreak {
    const { row, personal } = this.suspect as { row: ChainRow; personal: boolean };
    const nextSeq = BigInt(row.chainSeq ?? '0') + 1n;
    const chainedToIt =
      next !== undefined &&
      row.mac !== null &&
      next.chainSeq === nextSeq.toString() &&
      this.chain.fits(row.mac, nextSeq, next) !== 'mac';
    const at = { chainSeq: row.chainSeq, rowId: row.id };
    if (next !== undefined && !chainedToIt)
      return {
        kind: 'inserted',
        ...at,
        detail: 'it does not link to the row before it, nor does the next row link to it (inserted, moved or renumbered)',
      };
    if (personal)
      return { kind: 'edited', ...at, detail: 'its personal fields are not those sealed, and it is not marked erased' };
    if (next === undefined)
      return { kind: 'edited', ...at, detail: 'the last row does not match its MAC (edited, or appended by hand)' };
    return { kind: 'edited', ...at, detail: 'it does not match its MAC, while the next row links to that MAC' };
  }
}
