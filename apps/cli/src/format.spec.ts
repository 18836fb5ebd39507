import { bar, humanBytes, parseDuration, table } from './format';

describe('CLI formatting', () => {
  it('writes sizes for people', () => {
    expect([0, 1023, 1024, 1536, 9 * 1024 * 1024 + 17, 100 * 1024 ** 3].map(humanBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '1.5 KiB',
      '9.0 MiB',
      '100 GiB',
    ]);
  });

  it('lines up tables, numbers to the right', () => {
    expect(
      table(
        ['ID', 'SIZE'],
        [
          ['a', '1 B'],
          ['bbb', '10 KiB'],
        ],
        new Set([1]),
      ),
    ).toBe('ID     SIZE\na       1 B\nbbb  10 KiB');
  });

  it('draws usage bars and reads durations', () => {
    expect(bar(0.5, 10)).toBe('[#####.....]');
    expect(bar(2, 4)).toBe('[####]');
    expect(['30', '30s', '15m', '2h', '7d'].map(parseDuration)).toEqual([30, 30, 900, 7200, 604_800]);
    expect(() => parseDuration('soon')).toThrow('not a duration');
  });
});
