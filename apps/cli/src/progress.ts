import { SingleBar } from 'cli-progress';
import { humanBytes } from './format';

/** Plain progress lines, when not on a terminal: at most one per this long. */
const PLAIN_LINE_MS = 2_000;

/** A transfer's progress: a bar with rate and ETA on a terminal, else a plain line now and then (on standard error). */
export class TransferProgress {
  private readonly bar: SingleBar | undefined;
  private lastLine = 0;
  private readonly started = Date.now();
  private startedAt = -1;
  private current = 0;

  constructor(
    private readonly label: string,
    private total: number | undefined,
    private readonly quiet: boolean,
  ) {
    if (!quiet && process.stderr.isTTY) {
      this.bar = new SingleBar({
        format: `${label} [{bar}] {percentage}% | {done} of {size} | {rate}/s | ETA {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        barsize: 30,
        etaBuffer: 50,
      });
      this.bar.start(total ?? 0, 0, {
        done: humanBytes(0),
        size: total === undefined ? '?' : humanBytes(total),
        rate: humanBytes(0),
      });
    }
  }

  update(bytes: number, total?: number): void {
    if (total !== undefined && total !== this.total) {
      this.total = total;
      this.bar?.setTotal(total);
    }
    // A resumed transfer starts where it stood: its rate counts what this run moved.
    if (this.startedAt < 0) this.startedAt = bytes;
    this.current = bytes;
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    const rate = humanBytes(Math.round((bytes - this.startedAt) / seconds));
    if (this.bar) {
      this.bar.update(bytes, { done: humanBytes(bytes), size: this.total === undefined ? '?' : humanBytes(this.total), rate });
    } else if (!this.quiet && (Date.now() - this.lastLine >= PLAIN_LINE_MS || bytes === this.total)) {
      this.lastLine = Date.now();
      const of = this.total ? ` of ${humanBytes(this.total)} (${Math.floor((100 * bytes) / this.total)}%)` : '';
      process.stderr.write(`${this.label}: ${humanBytes(bytes)}${of}, ${rate}/s\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
    if (!this.bar && !this.quiet && this.lastLine > 0 && this.current !== this.total) this.update(this.current);
  }
}
