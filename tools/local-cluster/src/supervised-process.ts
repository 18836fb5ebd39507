import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { EXIT_CODE_BAD_CONFIG } from '@cloudstore/config';

export interface ProcessSpec {
  /** Name shown before each line of output: "gateway", "node-0", … */
  readonly name: string;
  /** Script run with the current Node.js binary. */
  readonly script: string;
  readonly env: NodeJS.ProcessEnv;
}

export interface SupervisorEvents {
  output(name: string, line: string, stream: 'stdout' | 'stderr'): void;
  exited(name: string, reason: string, restartInMs: number | undefined): void;
  started(name: string, pid: number): void;
  /** The process exited with a bad configuration: restarting would not help. */
  fatal(name: string, reason: string): void;
}

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
/** A process that ran this long before dying starts again from the shortest backoff. */
const STABLE_AFTER_MS = 30_000;

/**
 * One service process, kept running the way Kubernetes keeps a pod: restarted with exponential
 * backoff when it dies. It gets an IPC channel so that it exits by itself if the supervisor is
 * killed and cannot stop it.
 */
export class SupervisedProcess {
  private child: ChildProcess | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopping = false;
  private exitWaiters: (() => void)[] = [];

  constructor(
    readonly spec: ProcessSpec,
    private readonly events: SupervisorEvents,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  start(): void {
    this.stopping = false;
    const startedAt = Date.now();
    const child = spawn(process.execPath, [this.spec.script], {
      env: this.spec.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    for (const stream of ['stdout', 'stderr'] as const) {
      const input = child[stream];
      if (input) createInterface({ input }).on('line', (line) => this.events.output(this.spec.name, line, stream));
    }
    child.once('spawn', () => this.events.started(this.spec.name, child.pid ?? 0));
    child.once('exit', (code, signal) => {
      this.child = undefined;
      for (const resolve of this.exitWaiters.splice(0)) resolve();
      const reason = signal ? `killed by ${signal}` : `exited with code ${code}`;
      if (this.stopping) return;
      if (code === EXIT_CODE_BAD_CONFIG) {
        this.events.fatal(this.spec.name, reason);
        return;
      }
      if (Date.now() - startedAt >= STABLE_AFTER_MS) this.failures = 0;
      const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.failures);
      this.failures += 1;
      this.events.exited(this.spec.name, reason, delay);
      this.restartTimer = setTimeout(() => this.start(), delay);
    });
    child.on('error', (error) => this.events.output(this.spec.name, `cannot start: ${error.message}`, 'stderr'));
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    child.kill('SIGTERM');
    const killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(killTimer);
  }

  /** Sends a signal to the running process (fault injection in tests). */
  kill(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }
}
