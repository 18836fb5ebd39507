/**
 * Runs a process's async `main`. A failure to start ends the process with one line naming the
 * service and the cause (the full error is in the log when a logger existed).
 */
export function runMain(service: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    process.stderr.write(`${service}: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
