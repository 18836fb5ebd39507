import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { LOGGER, type Logger } from '@cloudstore/observability';
import type { DataSource } from 'typeorm';
import { AuditAppends } from './audit-appends';
import { AuditChain, CHAIN_START } from './audit-chain';
import { AuditChainRepository, type RowSeal } from './audit-chain.repository';

/** Rows sealed per transaction, so one round never holds the chain lock for long. */
const SEAL_BATCH = 500;
/** Appends that come together are sealed together. */
const SEAL_DEBOUNCE_MS = 200;
/** The round that catches what the debounce missed: rows committed after it ran, other replicas' appends. */
const SEAL_EVERY_MS = 2000;

/**
 * Chains the audit rows appended unsealed: each, in insertion order, gets the next chain_seq and
 * its mac. Appends stay concurrent; only this is serialised, by an advisory lock, so one replica
 * seals at a time and the others skip their round.
 */
@Injectable()
export class AuditSealer implements OnApplicationBootstrap, OnApplicationShutdown {
  private debounce: NodeJS.Timeout | undefined;
  private repeat: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: AuditChainRepository,
    private readonly chain: AuditChain,
    private readonly appends: AuditAppends,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.appends.onAppend(() => this.sealSoon());
    this.repeat = setInterval(() => void this.round(), SEAL_EVERY_MS);
    void this.round();
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.debounce);
    clearInterval(this.repeat);
    this.appends.onAppend(() => undefined);
    await this.running;
  }

  /** Seals every row that is unsealed now; how many. 0 when another replica holds the lock. */
  async seal(): Promise<number> {
    let total = 0;
    for (;;) {
      const sealed = await this.dataSource.transaction(async (manager) => {
        if (!(await this.repository.tryLockChain(manager))) return 0;
        const rows = await this.repository.unsealed(manager, SEAL_BATCH);
        let prev = (await this.repository.tail(manager)) ?? CHAIN_START;
        const seals: RowSeal[] = rows.map((row) => {
          const chainSeq = prev.chainSeq + 1n;
          const personalDigest = this.chain.personalDigest(row);
          const subjectDigest = this.chain.subjectDigest(row);
          prev = { chainSeq, mac: this.chain.link(prev.mac, chainSeq, row, personalDigest, subjectDigest) };
          return { id: row.id, chainSeq, mac: prev.mac, personalDigest, subjectDigest };
        });
        await this.repository.markSealed(manager, seals);
        return seals.length;
      });
      total += sealed;
      if (sealed < SEAL_BATCH) return total;
    }
  }

  private sealSoon(): void {
    this.debounce ??= setTimeout(() => {
      this.debounce = undefined;
      void this.round();
    }, SEAL_DEBOUNCE_MS);
  }

  /** One seal at a time in this process; a call while one runs makes it go round once more. */
  private async round(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.seal();
        } catch (error) {
          this.logger.warn({ err: error }, 'sealing the audit log failed; the next round retries');
        }
      } while (this.again);
    })();
    await this.running;
    this.running = undefined;
  }
}
