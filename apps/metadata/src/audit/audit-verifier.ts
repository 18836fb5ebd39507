import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AuditChain, CHAIN_START, type ChainBreak, type ChainCheckpoint, type ChainLink, ChainWalk } from './audit-chain';
import { AuditChainRepository } from './audit-chain.repository';

/** Rows read at a time: the walk holds one page, whatever the length of the chain. */
const PAGE_ROWS = 1000;

/** A row not sealed this long after it was written means the sealer is not running (or cannot). */
export const UNSEALED_GRACE_SECONDS = 300;

export interface ChainVerification {
  readonly rowsChecked: number;
  /** chain_seq of the last row that verified (the checkpoint's, or 0, when none did). */
  readonly lastSeq: string;
  readonly checkpointSeq: string | null;
  readonly broken: ChainBreak | undefined;
}

function startOf(checkpoint: ChainCheckpoint | undefined): ChainLink {
  return checkpoint ? { chainSeq: BigInt(checkpoint.chainSeq), mac: checkpoint.mac } : CHAIN_START;
}

/** Walks the audit chain from its latest checkpoint and finds the first broken link. */
@Injectable()
export class AuditVerifier {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: AuditChainRepository,
    private readonly chain: AuditChain,
  ) {}

  /** The whole chain, in one snapshot: rows sealed or pruned meanwhile do not show as breaks. */
  async verify(): Promise<ChainVerification> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      await this.repository.readOnly(manager);
      const checkpoint = await this.repository.latestCheckpoint(manager);
      const { start, broken: badCheckpoint } = this.start(checkpoint);
      const walk = new ChainWalk(start, this.chain);
      const broken = badCheckpoint ?? (await this.walk(manager, walk)) ?? (await this.staleUnsealed(manager));
      return {
        rowsChecked: walk.rowsChecked,
        lastSeq: walk.last.chainSeq.toString(),
        checkpointSeq: checkpoint?.chainSeq ?? null,
        broken,
      };
    });
  }

  /** Where the chain starts: the latest checkpoint when its signature holds. */
  start(checkpoint: ChainCheckpoint | undefined): { start: ChainLink; broken: ChainBreak | undefined } {
    return { start: startOf(checkpoint), broken: checkpoint && this.chain.checkpointProblem(checkpoint) };
  }

  /** The first break from the walk's position to `throughSeq` (or the end). */
  async walk(manager: EntityManager, walk: ChainWalk, throughSeq?: bigint): Promise<ChainBreak | undefined> {
    for await (const page of this.repository.sealedRows(manager, walk.last.chainSeq, PAGE_ROWS, throughSeq))
      for (const row of page) {
        const broken = walk.next(row);
        if (broken) return broken;
      }
    return walk.finish();
  }

  private async staleUnsealed(manager: EntityManager): Promise<ChainBreak | undefined> {
    const stale = await this.repository.staleUnsealed(manager, UNSEALED_GRACE_SECONDS);
    return (
      stale && {
        kind: 'unsealed',
        chainSeq: null,
        rowId: stale.id,
        detail: `written ${stale.ageSeconds} s ago and still not sealed (is the metadata service's sealer running?)`,
      }
    );
  }
}
