import { createHash, randomBytes } from 'node:crypto';
import { Server, ServerCredentials, type ServerWritableStream, status } from '@grpc/grpc-js';
import { STORAGE_NODE_SERVICE, type storageNodeApi } from '@cloudstore/contracts';
import { InternalTransport, loadServiceClientConstructor } from '@cloudstore/grpc';
import { findFreePortRange, waitFor } from '@cloudstore/testing';
import { BufferPool } from './buffer-pool';
import { ChunkUnopenableError, ReplicaReader, ReplicasExhaustedError } from './replica-reader';
import { StorageNodeClients } from './storage-node-clients';

type Behaviour = 'serve' | 'freeze' | 'missing' | 'corrupt';

/** A storage node over real gRPC whose GetChunk does what the test says. */
class FakeNode {
  calls = 0;
  cancelled = 0;
  private constructor(
    private readonly server: Server,
    readonly nodeId: string,
    readonly address: string,
    public behaviour: Behaviour,
    private readonly data: Buffer,
  ) {}

  static async start(nodeId: string, behaviour: Behaviour, data: Buffer): Promise<FakeNode> {
    const server = new Server();
    const port = await findFreePortRange(1);
    const node = new FakeNode(server, nodeId, `127.0.0.1:${port}`, behaviour, data);
    server.addService(loadServiceClientConstructor(STORAGE_NODE_SERVICE).service, {
      getChunk: (call: ServerWritableStream<storageNodeApi.GetChunkRequest, storageNodeApi.GetChunkResponse>) =>
        node.getChunk(call),
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(node.address, ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())),
    );
    return node;
  }

  private getChunk(call: ServerWritableStream<storageNodeApi.GetChunkRequest, storageNodeApi.GetChunkResponse>): void {
    this.calls += 1;
    call.on('cancelled', () => (this.cancelled += 1));
    switch (this.behaviour) {
      case 'freeze':
        return; // never a byte, never an end: a SIGSTOPped process looks like this
      case 'missing':
        call.emit('error', { code: status.NOT_FOUND, details: 'no such chunk' });
        return;
      case 'corrupt': {
        const bad = Buffer.from(this.data);
        bad[0] = (bad[0] ?? 0) ^ 1;
        call.write({ data: bad });
        call.end();
        return;
      }
      case 'serve':
        call.write({ data: this.data });
        call.end();
    }
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

describe(ReplicaReader.name, () => {
  const data = randomBytes(256 * 1024);
  const chunk = { chunkId: 'chunk-0001', size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
  const nodes: FakeNode[] = [];
  let clients: StorageNodeClients;
  let probeAnswers: boolean;
  let sut: ReplicaReader;

  async function node(nodeId: string, behaviour: Behaviour): Promise<FakeNode> {
    const started = await FakeNode.start(nodeId, behaviour, data);
    nodes.push(started);
    return started;
  }

  const health = () => clients.health;

  beforeEach(() => {
    probeAnswers = false;
    clients = new StorageNodeClients(
      InternalTransport.plaintext(),
      { failuresToSuspect: 2, probeIntervalMs: 50, minHedgeDelayMs: 100, maxHedgeDelayMs: 200 },
      () => (probeAnswers ? Promise.resolve() : Promise.reject(new Error('no answer'))),
    );
    // Far longer than any test may take: only hedging can get past a frozen replica.
    sut = new ReplicaReader(clients, 600_000);
  });

  afterEach(() => {
    clients.close();
    for (const n of nodes.splice(0)) n.stop();
  });

  it('asks the next replica when the first sends nothing, and cancels the frozen read once one answers', async () => {
    const frozen = await node('frozen', 'freeze');
    const good = await node('good', 'serve');

    expect(await sut.read({ ...chunk, replicas: [frozen, good] })).toEqual(data);
    expect([frozen.calls, good.calls]).toEqual([1, 1]);
    await waitFor('the frozen read cancelled', () => frozen.cancelled === 1, 5000, 10);
  });

  it('makes a node that keeps stalling suspect, and then reads elsewhere without asking it', async () => {
    const frozen = await node('frozen', 'freeze');
    const good = await node('good', 'serve');
    for (let i = 0; i < 2; i += 1) await sut.read({ ...chunk, replicas: [frozen, good] });
    expect(health().condition('frozen')).toBe('suspect');

    expect(await sut.read({ ...chunk, replicas: [frozen, good] })).toEqual(data);
    expect(frozen.calls).toBe(2);
  });

  it('moves on at once from a node where nothing listens, and makes it suspect', async () => {
    const gone = await node('gone', 'serve');
    gone.stop();
    const good = await node('good', 'serve');
    // A hedge delay longer than the test's timeout: only the refusal itself can move the read on.
    clients.close();
    clients = new StorageNodeClients(InternalTransport.plaintext(), {
      failuresToSuspect: 2,
      probeIntervalMs: 60_000,
      minHedgeDelayMs: 60_000,
      maxHedgeDelayMs: 60_000,
    });
    sut = new ReplicaReader(clients, 600_000);

    expect(await sut.read({ ...chunk, replicas: [gone, good] })).toEqual(data);
    expect(health().condition('gone')).toBe('suspect');
  });

  it('reads from a suspect node again once a probe answers', async () => {
    const flaky = await node('flaky', 'freeze');
    const good = await node('good', 'serve');
    for (let i = 0; i < 2; i += 1) await sut.read({ ...chunk, replicas: [flaky, good] });
    expect(health().condition('flaky')).toBe('suspect');

    probeAnswers = true;
    await waitFor('the probe answered', () => health().condition('flaky') === 'up', 5000, 10);
    flaky.behaviour = 'serve';
    expect(
      health()
        .order([flaky, good])
        .map((n) => n.nodeId)[0],
    ).toBe('flaky');
  });

  it('passes over a corrupt replica, telling the caller, and never returns its bytes', async () => {
    const corrupt = await node('corrupt', 'corrupt');
    const good = await node('good', 'serve');
    const problems: string[] = [];

    const read = await sut.read({ ...chunk, replicas: [corrupt, good] }, (replica, error) =>
      problems.push(`${replica.nodeId}:${error.problem}`),
    );

    expect(read).toEqual(data);
    expect(problems).toEqual(['corrupt:corrupt']);
    expect(health().condition('corrupt')).toBe('up');
  });

  it('fails with every replica problem when none can give the chunk', async () => {
    const missing = await node('missing', 'missing');
    const corrupt = await node('corrupt', 'corrupt');

    const failure = await sut.read({ ...chunk, replicas: [missing, corrupt] }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ReplicasExhaustedError);
    expect((failure as ReplicasExhaustedError).problems.map((p) => p.problem).sort()).toEqual(['corrupt', 'missing']);
    expect((failure as ReplicasExhaustedError).corrupt).toBe(true);
  });

  describe('with an opener that authenticates the bytes (a sealed chunk)', () => {
    // Stands in for AES-GCM: accepts exactly the chunk's bytes, and opens them into their length.
    const open = (bytes: Buffer) => {
      if (!bytes.equals(data)) throw new Error('failed authentication');
      return bytes.length;
    };

    it('returns what the opener made of the bytes, and passes over a replica it refuses as corrupt', async () => {
      const corrupt = await node('corrupt', 'corrupt');
      const good = await node('good', 'serve');
      const problems: string[] = [];

      const opened = await sut.read(
        { ...chunk, replicas: [corrupt, good] },
        (replica, error) => problems.push(`${replica.nodeId}:${error.problem}`),
        { open },
      );

      expect(opened).toBe(data.length);
      expect(problems).toEqual(['corrupt:corrupt']);
    });

    it('reads into pooled buffers, each given back once opened, whether the replica was good or corrupt', async () => {
      const corrupt = await node('corrupt', 'corrupt');
      const good = await node('good', 'serve');
      const pool = new BufferPool(data.length + 100, 4);
      const lent = new Set<Buffer>();
      const returned: Buffer[] = [];
      jest.spyOn(pool, 'acquire').mockImplementation(() => {
        const buffer = Buffer.alloc(pool.bufferBytes);
        lent.add(buffer);
        return buffer;
      });
      jest.spyOn(pool, 'release').mockImplementation((buffer) => void returned.push(buffer));
      const pooled = new ReplicaReader(clients, 600_000, pool);
      const opened: Buffer[] = [];

      await pooled.read({ ...chunk, replicas: [corrupt, good] }, () => undefined, {
        open: (bytes) => {
          opened.push(bytes);
          return open(bytes);
        },
      });

      expect(opened.every((b) => [...lent].some((l) => l.buffer === b.buffer))).toBe(true);
      expect(new Set(returned)).toEqual(lent);
      expect(returned).toHaveLength(2);
    });

    it('does not hash the bytes: the opener is their check', async () => {
      const good = await node('good', 'serve');
      const opened = await sut.read({ ...chunk, sha256: 'f'.repeat(64), replicas: [good] }, () => undefined, { open });
      expect(opened).toBe(data.length);
    });

    it('blames the metadata, not the replicas, when bytes that match their SHA-256 cannot be opened', async () => {
      const first = await node('first', 'serve');
      const second = await node('second', 'serve');
      const problems: string[] = [];
      const refuse = () => {
        throw new Error('wrong key');
      };

      const failure = await sut
        .read({ ...chunk, replicas: [first, second] }, (replica) => problems.push(replica.nodeId), { open: refuse })
        .catch((error: unknown) => error);

      expect(failure).toBeInstanceOf(ChunkUnopenableError);
      expect(problems).toEqual([]);
      expect(second.calls).toBe(0);
    });
  });

  it('fails at once for a chunk with no replica', async () => {
    await expect(sut.read({ ...chunk, replicas: [] })).rejects.toBeInstanceOf(ReplicasExhaustedError);
  });
});
