import { waitFor } from './wait-for';

describe(waitFor.name, () => {
  it('returns the first value the probe gives that is neither undefined nor false', async () => {
    let calls = 0;
    const sut = await waitFor(
      'the third call',
      () => {
        calls += 1;
        return calls >= 3 ? { calls } : undefined;
      },
      5000,
      1,
    );
    expect(sut).toEqual({ calls: 3 });
  });

  it('keeps polling through errors, and treats 0 and empty strings as answers', async () => {
    let calls = 0;
    await expect(
      waitFor(
        'a probe that throws first',
        () => {
          calls += 1;
          if (calls < 2) throw new Error('not yet');
          return 0;
        },
        5000,
        1,
      ),
    ).resolves.toBe(0);
    await expect(waitFor('an empty string', () => '', 100, 1)).resolves.toBe('');
  });

  it('times out naming what it waited for and the last error', async () => {
    await expect(
      waitFor(
        'the moon',
        () => {
          throw new Error('still new moon');
        },
        50,
        5,
      ),
    ).rejects.toThrow('timed out after 50 ms waiting for the moon: still new moon');
    await expect(waitFor('a false probe', () => false, 30, 5)).rejects.toThrow(/waiting for a false probe$/);
  });
});
