import { TransferBudget, TransferBudgetTimeoutError } from './transfer-budget';

describe(TransferBudget.name, () => {
  const settled = () => new Promise((resolve) => setImmediate(resolve));

  it('grants bytes while they fit, and the next taker waits until enough were given back', async () => {
    const sut = new TransferBudget(10);
    await sut.take(4);
    await sut.take(6);
    let granted = false;
    const waiting = sut.take(3).then(() => (granted = true));
    sut.release(2);
    await settled();
    expect(granted).toBe(false);
    sut.release(4);
    await waiting;
    expect(sut.inUse).toBe(7);
  });

  it('serves takers first come, first served: a large one at the head is not overtaken by small ones', async () => {
    const sut = new TransferBudget(10);
    await sut.take(8);
    const order: string[] = [];
    const large = sut.take(9).then(() => order.push('large'));
    const small = sut.take(1).then(() => order.push('small'));
    await settled();
    expect(order).toEqual([]);
    sut.release(8);
    await Promise.all([large, small]);
    expect(order).toEqual(['large', 'small']);
    expect(sut.inUse).toBe(10);
  });

  it('grants more than the whole budget once nothing else is held', async () => {
    const sut = new TransferBudget(10);
    await sut.take(1);
    let granted = false;
    const huge = sut.take(25).then(() => (granted = true));
    await settled();
    expect(granted).toBe(false);
    sut.release(1);
    await huge;
    expect(sut.inUse).toBe(25);
  });

  it('gives up on a taker not served in time, holding nothing, and serves those behind it that fit', async () => {
    const sut = new TransferBudget(10);
    await sut.take(6);
    const large = sut.take(8, 20);
    const small = sut.take(3);
    await expect(large).rejects.toBeInstanceOf(TransferBudgetTimeoutError);
    await small;
    expect(sut.inUse).toBe(9);
  });

  it('refuses an empty budget and a release of more than is held', () => {
    expect(() => new TransferBudget(0)).toThrow(RangeError);
    expect(() => new TransferBudget(5).release(1)).toThrow(RangeError);
  });
});
