import { PermissionDeniedError, ServiceUnavailableError } from '@cloudstore/contracts';
import { type Clock, EXIT_MAY_STOP, EXIT_NOT_CLEARED, EXIT_USAGE, guardStop, POLL_INTERVAL_MS } from './sole-copies-guard';

/** A clock whose sleeps pass at once, recorded. */
function fakeClock(): Clock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: (ms) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

/** Answers in turn (the last one from then on); an Error answer is thrown. */
function answers(...values: (number | Error)[]) {
  const soleCopies = jest.fn((_timeoutMs: number) => {
    const value = values.length > 1 ? values.shift() : values[0];
    return value instanceof Error ? Promise.reject(value) : Promise.resolve(value as number);
  });
  return { soleCopies };
}

describe(guardStop.name, () => {
  let clock: ReturnType<typeof fakeClock>;
  let out: string[];
  let err: string[];
  const output = () => ({ out: (line: string) => out.push(line), err: (line: string) => err.push(line) });

  beforeEach(() => {
    clock = fakeClock();
    out = [];
    err = [];
  });

  it('lets the node stop at once when it holds no sole copy', async () => {
    expect(await guardStop([], 'node-0', answers(0), clock, output())).toBe(EXIT_MAY_STOP);
    expect(clock.slept).toEqual([]);
    expect(out).toEqual(['stop-guard: every chunk node-0 holds has a healthy copy elsewhere: it may stop']);
    expect(err).toEqual([]);
  });

  it('asks again until the repair leaves none, saying how many are left when it changes', async () => {
    const source = answers(3, 3, 1, 0);
    expect(await guardStop([], 'node-0', source, clock, output())).toBe(EXIT_MAY_STOP);
    expect(source.soleCopies).toHaveBeenCalledTimes(4);
    expect(clock.slept).toEqual([POLL_INTERVAL_MS, POLL_INTERVAL_MS, POLL_INTERVAL_MS]);
    expect(out).toEqual([
      'stop-guard: node-0 holds the only healthy copy of 3 chunks: waiting for their repair',
      'stop-guard: node-0 holds the only healthy copy of 1 chunk: waiting for their repair',
      'stop-guard: every chunk node-0 holds has a healthy copy elsewhere: it may stop',
    ]);
  });

  it('gives up at --max-wait-seconds with one line saying how many sole copies are left', async () => {
    const source = answers(2);
    expect(await guardStop(['--max-wait-seconds', '12'], 'node-0', source, clock, output())).toBe(EXIT_NOT_CLEARED);
    // Asked at 0, 5, 10 and, last, at the deadline.
    expect(clock.slept).toEqual([POLL_INTERVAL_MS, POLL_INTERVAL_MS, 2000]);
    expect(source.soleCopies).toHaveBeenCalledTimes(4);
    expect(err).toEqual([
      'stop-guard: node-0 still holds the only healthy copy of 2 chunks after 12 s: they are unreadable until it is back (to remove a node, drain it first)',
    ]);
  });

  it('waits 540 s by default', async () => {
    expect(await guardStop([], 'node-0', answers(1), clock, output())).toBe(EXIT_NOT_CLEARED);
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBe(540_000);
  });

  it('keeps asking a metadata service that does not answer, within the deadline', async () => {
    const source = answers(new ServiceUnavailableError('metadata is unavailable'), 0);
    expect(await guardStop(['--max-wait-seconds=30'], 'node-0', source, clock, output())).toBe(EXIT_MAY_STOP);
    expect(out[0]).toBe('stop-guard: cannot ask the metadata service (metadata is unavailable): trying again');
    const unreachable = answers(new ServiceUnavailableError('metadata is unavailable'));
    err = [];
    expect(await guardStop(['--max-wait-seconds=3'], 'node-0', unreachable, clock, output())).toBe(EXIT_NOT_CLEARED);
    expect(err).toEqual([
      'stop-guard: the metadata service did not answer in 3 s (metadata is unavailable): node-0 stops without knowing whether it holds the only copy of any chunk',
    ]);
    // No call waits past the deadline by more than a second.
    expect(unreachable.soleCopies.mock.calls.map(([timeoutMs]) => timeoutMs)).toEqual([3000, 1000]);
  });

  it('does not ask again when the metadata service refuses the node (another identity)', async () => {
    const source = answers(new PermissionDeniedError('A node may only speak for itself'));
    expect(await guardStop([], 'node-0', source, clock, output())).toBe(EXIT_NOT_CLEARED);
    expect(source.soleCopies).toHaveBeenCalledTimes(1);
    expect(err).toEqual([
      'stop-guard: the metadata service refused to say what node-0 alone holds: A node may only speak for itself',
    ]);
  });

  it.each([[['--max-wait-seconds', 'soon']], [['--max-wait-seconds', '-1']], [['--wait', '3']], [['extra']]])(
    'refuses the arguments %j',
    async (args) => {
      const source = answers(0);
      expect(await guardStop(args, 'node-0', source, clock, output())).toBe(EXIT_USAGE);
      expect(source.soleCopies).not.toHaveBeenCalled();
      expect(err).toEqual(['usage: stop-guard [--max-wait-seconds N] (N a whole number of seconds, default 540)']);
    },
  );
});
