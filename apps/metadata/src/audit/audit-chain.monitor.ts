import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger, Metrics } from '@cloudstore/observability';
import { Gauge } from 'prom-client';
import { describeBreak } from './audit-chain';
import { AuditVerifier, type ChainVerification } from './audit-verifier';

/**
 * The scheduled verification of the audit chain: its result as metrics for alerting
 * (CloudstoreAuditChainBroken), and a broken chain logged at error with where and what.
 */
@Injectable()
export class AuditChainMonitor {
  private readonly intact: Gauge;
  private readonly verifiedAt: Gauge;
  private readonly lastSeq: Gauge;

  constructor(
    private readonly verifier: AuditVerifier,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: Metrics,
  ) {
    const registers = [metrics.registry];
    this.intact = new Gauge({
      name: 'cloudstore_audit_chain_intact',
      help: 'Whether the last verification of the audit chain found it intact (1) or broken (0).',
      registers,
    });
    this.verifiedAt = new Gauge({
      name: 'cloudstore_audit_chain_verified_timestamp_seconds',
      help: 'When this replica last verified the audit chain (0: never).',
      registers,
    });
    this.lastSeq = new Gauge({
      name: 'cloudstore_audit_chain_last_seq',
      help: 'chain_seq of the last audit row that verified: it never goes down, unless rows were cut from the end.',
      registers,
    });
  }

  async run(): Promise<ChainVerification> {
    const result = await this.verifier.verify();
    this.intact.set(result.broken ? 0 : 1);
    this.lastSeq.set(Number(result.lastSeq));
    this.verifiedAt.set(Date.now() / 1000);
    if (result.broken) this.logger.error({ broken: result.broken }, describeBreak(result.broken));
    else this.logger.info({ rows: result.rowsChecked, lastSeq: result.lastSeq }, 'audit chain verified intact');
    return result;
  }
}
