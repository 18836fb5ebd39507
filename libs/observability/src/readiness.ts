/** One check of a readiness report. */
export interface CheckResult {
  status: 'up' | 'down';
  error?: string;
}

/**
 * What `/readyz` answers, the gateway's (the cluster) and every internal service's (its own
 * dependencies): 200 when ready, 503 when not.
 */
export interface Readiness<Checks extends Record<string, CheckResult> = Record<string, CheckResult>> {
  status: 'ready' | 'not_ready';
  /** Names of the checks that failed. */
  failed: string[];
  /** Set once the process is stopping: it takes no new work, whatever its checks say. */
  stopping?: true;
  checks: Checks;
}

/** Up when `check` resolves, down with why when it rejects. */
export async function probe(check: () => Promise<void>): Promise<CheckResult> {
  try {
    await check();
    return { status: 'up' };
  } catch (error) {
    return { status: 'down', error: error instanceof Error ? error.message : String(error) };
  }
}

/** Ready when every check is up and the process is not stopping. */
export function readinessOf<Checks extends Record<string, CheckResult>>(checks: Checks, stopping = false): Readiness<Checks> {
  const failed = Object.keys(checks).filter((name) => checks[name]?.status === 'down');
  const ready = failed.length === 0 && !stopping;
  return { status: ready ? 'ready' : 'not_ready', failed, ...(stopping ? { stopping: true as const } : {}), checks };
}

/** The HTTP status of `/readyz` for a report. */
export function readinessHttpStatus(readiness: Pick<Readiness, 'status'>): 200 | 503 {
  return readiness.status === 'ready' ? 200 : 503;
}
