/**
 * A bound on the chunk bytes a process holds in memory at once across all its transfers: a
 * chunk's bytes are taken from the budget before they are held and given back once they are
 * gone. When the budget is spent, the next taker waits (first come, first served) and so does
 * its client: memory stays bounded however many transfers run, and they slow down together
 * instead of failing. Holders never wait for one another, so the waiting cannot deadlock.
 */
/** A taker waited longer than it may for its bytes: the process is at its transfer limit. */
export class TransferBudgetTimeoutError extends Error {
  override name = 'TransferBudgetTimeoutError';
}

export class TransferBudget {
  private held = 0;
  private readonly waiting: { bytes: number; grant: () => void }[] = [];

  constructor(readonly bytes: number) {
    if (!Number.isSafeInteger(bytes) || bytes < 1) throw new RangeError('a transfer budget holds at least one byte');
  }

  /** Bytes held now. */
  get inUse(): number {
    return this.held;
  }

  /**
   * Resolves once `bytes` may be held; `release(bytes)` must follow exactly once. More than the
   * whole budget is granted when nothing else is held, so one large chunk still moves. A taker
   * not served within `timeoutMs` (holders that do not move: clients that trickle or stop
   * reading) gives up with TransferBudgetTimeoutError, holding nothing.
   */
  take(bytes: number, timeoutMs = Infinity): Promise<void> {
    if (this.waiting.length === 0 && this.fits(bytes)) {
      this.held += bytes;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = {
        bytes,
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiting.push(waiter);
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          // Those queued behind it may fit now.
          this.grantWaiting();
          reject(new TransferBudgetTimeoutError(`no room for ${bytes} bytes within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  release(bytes: number): void {
    if (bytes > this.held) throw new RangeError('a transfer budget was given back more than was taken');
    this.held -= bytes;
    this.grantWaiting();
  }

  /** Bytes pass to waiters in order: a large one at the head is not overtaken by small ones. */
  private grantWaiting(): void {
    for (let next = this.waiting[0]; next && this.fits(next.bytes); next = this.waiting[0]) {
      this.waiting.shift();
      this.held += next.bytes;
      next.grant();
    }
  }

  private fits(bytes: number): boolean {
    return this.held === 0 || this.held + bytes <= this.bytes;
  }
}
