import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Logger } from 'pino';
import { type CheckResult, probe, type Readiness, readinessOf } from './readiness';

/** A dependency a service needs to serve: resolves when reachable, rejects with why not. */
export interface DependencyCheck {
  readonly name: string;
  check(): Promise<void>;
}

/**
 * Health service name under which a process publishes one dependency's status, so that a
 * caller (the gateway's /readyz) can tell which dependency failed: `dependency/postgres`.
 */
export function dependencyHealthName(dependency: string): string {
  return `dependency/${dependency}`;
}

/** Before the first checks have answered: not ready, nothing known yet. */
const NOT_CHECKED: Readiness = { status: 'not_ready', failed: [], checks: {} };

/**
 * Keeps a process's readiness true, as `grpc.health.v1.Health` (the overall status, "" service,
 * and the named gRPC services) and as the report of its `/readyz`: SERVING / ready while every
 * dependency check passes, NOT_SERVING / not ready otherwise, and for good once stopped.
 */
export class HealthMonitor {
  readonly implementation = new HealthImplementation({ '': 'NOT_SERVING' });
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private report: Readiness = NOT_CHECKED;

  constructor(
    private readonly serviceNames: readonly string[],
    private readonly checks: readonly DependencyCheck[],
    private readonly logger: Logger,
    private readonly checkTimeoutMs = 2000,
  ) {
    for (const name of serviceNames) this.implementation.setStatus(name, 'NOT_SERVING');
  }

  /** Checks now, then every `intervalMs` while serving, every second while not (to recover fast). */
  async start(intervalMs = 5000): Promise<void> {
    this.stopped = false;
    await this.refresh();
    const next = () => {
      if (this.stopped) return;
      this.timer = setTimeout(
        () => void this.refresh().finally(next),
        this.report.status === 'ready' ? intervalMs : Math.min(intervalMs, 1000),
      );
      this.timer.unref();
    };
    next();
  }

  /** Not ready from now on, even if a check under way passes: the process is stopping. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.publish(readinessOf(this.report.checks, true));
  }

  /** The last report: what `/readyz` answers. */
  get readiness(): Readiness {
    return this.report;
  }

  async refresh(): Promise<Readiness> {
    const results = await Promise.all(this.checks.map(async (c) => [c.name, await this.runCheck(c)] as const));
    for (const [name, result] of results) {
      this.implementation.setStatus(dependencyHealthName(name), result.status === 'up' ? 'SERVING' : 'NOT_SERVING');
    }
    const next = readinessOf(Object.fromEntries(results), this.stopped);
    if (!this.stopped && next.status !== this.report.status) {
      if (next.status === 'ready') this.logger.info('all dependencies reachable: serving');
      else this.logger.warn({ failed: next.failed, checks: next.checks }, 'a dependency is unreachable: not serving');
    }
    this.publish(next);
    return next;
  }

  private runCheck(dependency: DependencyCheck): Promise<CheckResult> {
    let timeout: NodeJS.Timeout | undefined;
    return probe(() =>
      Promise.race([
        dependency.check(),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(() => reject(new Error(`no answer within ${this.checkTimeoutMs} ms`)), this.checkTimeoutMs);
        }),
      ]),
    ).finally(() => clearTimeout(timeout));
  }

  private publish(report: Readiness): void {
    this.report = report;
    const status: ServingStatus = report.status === 'ready' ? 'SERVING' : 'NOT_SERVING';
    this.implementation.setStatus('', status);
    for (const name of this.serviceNames) this.implementation.setStatus(name, status);
  }
}
