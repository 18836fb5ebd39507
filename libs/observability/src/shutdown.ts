import type { Logger } from 'pino';

/**
 * Stops the process cleanly on SIGTERM, SIGINT, or when the supervisor that spawned it goes
 * away (its IPC channel closes), so that no service outlives `npm start`. If `close` hangs, the
 * process exits anyway after `hardTimeoutMs`.
 */
export function exitOnShutdownSignal(logger: Logger, close: () => Promise<void>, hardTimeoutMs = 8000): void {
  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    setTimeout(() => {
      logger.error({ hardTimeoutMs }, 'shutdown took too long, exiting');
      process.exit(1);
    }, hardTimeoutMs).unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  if (process.send) process.once('disconnect', () => stop('supervisor went away'));
}
