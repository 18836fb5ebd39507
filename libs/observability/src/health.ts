import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Logger } from 'pino';

/** A dependency a service needs to serve: resolves when reachable, rejects with why not. */
export interface DependencyCheck {
  readonly name: string;
  check(): Promise<void>;
}

export interface DependencyStatus {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
}

/**
 * Health service name under which a process publishes one dependency's status, so that a
 * caller (the gateway's /readyz) can tell which dependency failed: `dependency/postgres`.
 */
export function dependencyHealthName(dependency: string): string {
  return `dependency/${dependency}`;
}

/**
 * Keeps `grpc.health.v1.Health` of a process true: the overall status ("" service) and the
 * named gRPC service are SERVING while every dependency check passes, NOT_SERVING otherwise.
 */
export class HealthMonitor {
  readonly implementation = new HealthImplementation({ '': 'NOT_SERVING' });
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastStatuses: DependencyStatus[] = [];
  private serving: ServingStatus = 'NOT_SERVING';

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
        this.serving === 'SERVING' ? intervalMs : Math.min(intervalMs, 1000),
      );
      this.timer.unref();
    };
    next();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.setServing('NOT_SERVING');
  }

  get statuses(): readonly DependencyStatus[] {
    return this.lastStatuses;
  }

  async refresh(): Promise<readonly DependencyStatus[]> {
    this.lastStatuses = await Promise.all(this.checks.map((c) => this.runCheck(c)));
    for (const status of this.lastStatuses) {
      this.implementation.setStatus(dependencyHealthName(status.name), status.ok ? 'SERVING' : 'NOT_SERVING');
    }
    const failed = this.lastStatuses.filter((s) => !s.ok);
    const next: ServingStatus = failed.length === 0 ? 'SERVING' : 'NOT_SERVING';
    if (next !== this.serving) {
      if (next === 'SERVING') this.logger.info('all dependencies reachable: serving');
      else this.logger.warn({ failed }, 'a dependency is unreachable: not serving');
    }
    this.setServing(next);
    return this.lastStatuses;
  }

  private async runCheck(dependency: DependencyCheck): Promise<DependencyStatus> {
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        dependency.check(),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(() => reject(new Error(`no answer within ${this.checkTimeoutMs} ms`)), this.checkTimeoutMs);
        }),
      ]);
      return { name: dependency.name, ok: true };
    } catch (error) {
      return { name: dependency.name, ok: false, error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timeout);
    }
  }

  private setServing(status: ServingStatus): void {
    this.serving = status;
    this.implementation.setStatus('', status);
    for (const name of this.serviceNames) this.implementation.setStatus(name, status);
  }
}
