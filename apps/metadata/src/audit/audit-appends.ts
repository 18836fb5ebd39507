import { Injectable } from '@nestjs/common';

/** Tells the sealer that rows were appended, so they are chained within moments rather than at its next round. */
@Injectable()
export class AuditAppends {
  private listener: (() => void) | undefined;

  notify(): void {
    this.listener?.();
  }

  onAppend(listener: () => void): void {
    this.listener = listener;
  }
}
