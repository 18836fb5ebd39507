import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { MetadataConfig } from '@cloudstore/config';
import type { DataSource } from 'typeorm';
import { METADATA_CONFIG } from '../metadata.tokens';
import { AuditChain, ChainWalk, describeBreak } from './audit-chain';
import { AuditChainRepository } from './audit-chain.repository';
import { AuditVerifier } from './audit-verifier';

/** Rows pruned per transaction (each leaves its checkpoint). */
const PRUNE_BATCH = 10_000;

/**
 * Prunes sealed audit rows older than AUDIT_RETENTION_DAYS from the head of the chain. Each cut
 * first writes a signed checkpoint (the last pruned row's seq and mac) in the same transaction,
 * so the rows left verify from it; a segment that does not verify is never pruned, or its
 * evidence would go with it.
 */
@Injectable()
export class AuditRetention {
  constructor(
    @Inject(METADATA_CONFIG) private readonly config: Pick<MetadataConfig, 'AUDIT_RETENTION_DAYS'>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: AuditChainRepository,
    private readonly verifier: AuditVerifier,
    private readonly chain: AuditChain,
  ) {}

  /** Rows pruned. */
  async prune(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.AUDIT_RETENTION_DAYS * 86_400_000);
    let total = 0;
    for (;;) {
      const pruned = await this.dataSource.transaction(async (manager) => {
        await this.repository.lockChain(manager);
        const { start, broken: badCheckpoint } = this.verifier.start(await this.repository.latestCheckpoint(manager));
        if (badCheckpoint) throw new Error(`not pruning the audit log: ${describeBreak(badCheckpoint)}`);
        const through = await this.repository.prunableThrough(manager, start.chainSeq, cutoff, PRUNE_BATCH);
        if (!through) return 0;
        const broken = await this.verifier.walk(manager, new ChainWalk(start, this.chain), through.chainSeq);
        if (broken) throw new Error(`not pruning the audit log: ${describeBreak(broken)}`);
        const checkpoint = {
          chainSeq: through.chainSeq.toString(),
          mac: through.mac,
          prunedBefore: String(cutoff.getTime() * 1000),
          createdAt: String(now.getTime() * 1000),
        };
        await this.repository.addCheckpoint(manager, { ...checkpoint, signature: this.chain.signCheckpoint(checkpoint) });
        return this.repository.deleteThrough(manager, through.chainSeq);
      });
      total += pruned;
      if (pruned < PRUNE_BATCH) return total;
    }
  }
}
