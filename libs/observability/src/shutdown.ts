import type { Logger } from 'pino';

/**
 * How long a process told to stop takes at most before it exits anyway: within the 30 s that
 * Kubernetes (terminationGracePeriodSeconds) and docker-compose (stop_grace_period) give before
 * they kill, so that a stop is always the process's own, never a SIGKILL.
 */
export const SHUTDOWN_TIMEOUT_MS = 25_000;

/**
 * Stops the process cleanly on SIGTERM, SIGINT, or when the supervisor that spawned it goes
 * away (its IPC channel closes), so that no service outlives `npm start`: exit 0 once `close`
 * resolves, 1 if it fails or is not done after `hardTimeoutMs`.
 */
export function exitOnShutdownSignal(logger: Logger, close: () => Promise<void>, hardTimeoutMs = SHUTDOWN_TIMEOUT_MS): void {
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
