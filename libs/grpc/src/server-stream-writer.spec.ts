import { EventEmitter } from 'node:events';
import { waitForDrain } from './server-stream-writer';

describe(waitForDrain.name, () => {
  it('resolves on drain or on the end event, leaving no listener behind however often it waits', async () => {
    const stream = new EventEmitter();
    for (let i = 0; i < 20; i += 1) {
      const waiting = waitForDrain(stream, 'close');
      stream.emit(i % 2 === 0 ? 'drain' : 'close');
      await waiting;
    }
    expect(stream.eventNames()).toEqual([]);
  });

  it("rejects with the stream's error, and removes its listeners then too", async () => {
    const stream = new EventEmitter();
    const waiting = waitForDrain(stream, 'close');
    stream.emit('error', new Error('reset'));
    await expect(waiting).rejects.toThrow('reset');
    expect(stream.eventNames()).toEqual([]);
  });
});
