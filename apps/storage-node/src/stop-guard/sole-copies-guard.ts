import { parseArgs } from 'node:util';
import { DomainError } from '@cloudstore/contracts';

export const EXIT_MAY_STOP = 0;
/** The node still holds sole copies at the deadline, or the metadata service never answered, or refused. */
export const EXIT_NOT_CLEARED = 1;
export const EXIT_USAGE = 2;

/**
 * kubelet kills the container terminationGracePeriodSeconds after the stop began, hook done or
 * not, and the hook's time counts in it. 540 s gives up a minute before the StatefulSet's 600 s
 * run out: the line saying why is then recorded in the pod's events (a hook killed at the end of
 * the period says nothing), and the node still has time for its own SIGTERM shutdown.
 */
export const DEFAULT_MAX_WAIT_SECONDS = 540;
/** Between two questions: a repair of a chunk takes about this long, and a question costs little. */
export const POLL_INTERVAL_MS = 5000;
const CALL_TIMEOUT_MS = 5000;

/** The metadata service's answer for this node: chunks only it holds a healthy copy of. */
export interface SoleCopiesSource {
  soleCopies(timeoutMs: number): Promise<number>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface GuardOutput {
  out(line: string): void;
  err(line: string): void;
}

// Wrong identity or node id: asking again cannot change the answer.
const REFUSALS: readonly string[] = ['PERMISSION_DENIED', 'INVALID_ARGUMENT'];

type Answer = { readonly soleCopies: number } | { readonly unreachable: string };

function maxWaitSeconds(args: readonly string[]): number | undefined {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { 'max-wait-seconds': { type: 'string', default: String(DEFAULT_MAX_WAIT_SECONDS) } },
      strict: true,
    });
    const text = values['max-wait-seconds'];
    return /^\d{1,6}$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A storage node's preStop guard: asks the metadata service (`source`) how many chunks the node
 * `nodeId` holds the only healthy copy of, until none (exit 0) or `--max-wait-seconds` have
 * passed (exit 1, one line on `err` saying how many are left or why no answer came). The
 * metadata service starts their repair whenever it answers more than 0. Returns the exit code.
 */
export async function guardStop(
  args: readonly string[],
  nodeId: string,
  source: SoleCopiesSource,
  clock: Clock,
  output: GuardOutput,
): Promise<number> {
  const seconds = maxWaitSeconds(args);
  if (seconds === undefined) {
    output.err('usage: stop-guard [--max-wait-seconds N] (N a whole number of seconds, default 540)');
    return EXIT_USAGE;
  }
  const deadline = clock.now() + seconds * 1000;
  let shown: string | undefined;
  for (;;) {
    const timeoutMs = Math.max(1000, Math.min(CALL_TIMEOUT_MS, deadline - clock.now()));
    let answer: Answer;
    try {
      answer = { soleCopies: await source.soleCopies(timeoutMs) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (error instanceof DomainError && REFUSALS.includes(error.code)) {
        output.err(`stop-guard: the metadata service refused to say what ${nodeId} alone holds: ${reason}`);
        return EXIT_NOT_CLEARED;
      }
      answer = { unreachable: reason };
    }
    if ('soleCopies' in answer && answer.soleCopies === 0) {
      output.out(`stop-guard: every chunk ${nodeId} holds has a healthy copy elsewhere: it may stop`);
      return EXIT_MAY_STOP;
    }
    const progress = progressLine(nodeId, answer);
    if (progress !== shown) output.out(progress);
    shown = progress;
    const left = deadline - clock.now();
    if (left <= 0) {
      output.err(verdictLine(nodeId, answer, seconds));
      return EXIT_NOT_CLEARED;
    }
    await clock.sleep(Math.min(POLL_INTERVAL_MS, left));
  }
}

const chunks = (n: number) => `${n} chunk${n === 1 ? '' : 's'}`;

function progressLine(nodeId: string, answer: Answer): string {
  return 'soleCopies' in answer
    ? `stop-guard: ${nodeId} holds the only healthy copy of ${chunks(answer.soleCopies)}: waiting for their repair`
    : `stop-guard: cannot ask the metadata service (${answer.unreachable}): trying again`;
}

function verdictLine(nodeId: string, answer: Answer, seconds: number): string {
  return 'soleCopies' in answer
    ? `stop-guard: ${nodeId} still holds the only healthy copy of ${chunks(answer.soleCopies)} after ${seconds} s: ` +
        'they are unreadable until it is back (to remove a node, drain it first)'
    : `stop-guard: the metadata service did not answer in ${seconds} s (${answer.unreachable}): ` +
        `${nodeId} stops without knowing whether it holds the only copy of any chunk`;
}
