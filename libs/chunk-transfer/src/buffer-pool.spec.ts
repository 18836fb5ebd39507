import { BufferPool } from './buffer-pool';

describe(BufferPool.name, () => {
  it('hands a released buffer out again, and makes new ones when none is idle', () => {
    const sut = new BufferPool(1024, 2);
    const first = sut.acquire();
    const second = sut.acquire();
    expect(first).toHaveLength(1024);
    expect(second).not.toBe(first);
    sut.release(first);
    expect(sut.acquire()).toBe(first);
  });

  it('keeps at most maxIdle buffers, each once, and only buffers of its size', () => {
    const sut = new BufferPool(16, 1);
    const [a, b] = [sut.acquire(), sut.acquire()];
    sut.release(a);
    sut.release(a);
    sut.release(b);
    expect(sut.acquire()).toBe(a);
    expect(sut.acquire()).not.toBe(b);
    expect(() => sut.release(Buffer.alloc(8))).toThrow(RangeError);
  });
});
