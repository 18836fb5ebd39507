import { effectiveReplicationFactor, type PlacementNode, rankNodes, writeQuorum } from './rendezvous-placement';

const TiB = 2 ** 40;
const node = (nodeId: string, capacityBytes = TiB, usedBytes = 0): PlacementNode => ({
  nodeId,
  address: `${nodeId}:1`,
  capacityBytes,
  usedBytes,
});

describe(rankNodes.name, () => {
  const nodes = ['node-0', 'node-1', 'node-2', 'node-3'].map((id) => node(id));

  it('ranks the same way every time for a chunk', () => {
    expect(rankNodes('chunk-a', 100, nodes)).toEqual(rankNodes('chunk-a', 100, [...nodes].reverse()));
  });

  it('spreads chunks evenly over equal nodes', () => {
    const firsts = new Map<string, number>();
    for (let i = 0; i < 4000; i += 1) {
      const first = rankNodes(`chunk-${i}`, 100, nodes)[0]?.nodeId ?? '';
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    for (const count of firsts.values()) expect(count).toBeGreaterThan(850);
    expect(firsts.size).toBe(4);
  });

  it('gives a node with more capacity proportionally more chunks', () => {
    const uneven = [node('big', 3 * TiB), node('small', TiB)];
    let big = 0;
    for (let i = 0; i < 4000; i += 1) if (rankNodes(`c${i}`, 100, uneven)[0]?.nodeId === 'big') big += 1;
    expect(big / 4000).toBeGreaterThan(0.7);
    expect(big / 4000).toBeLessThan(0.8);
  });

  it('moves only the chunks of a node that leaves', () => {
    const movedFrom: (string | undefined)[] = [];
    for (let i = 0; i < 2000; i += 1) {
      const before = rankNodes(`c${i}`, 100, nodes)[0]?.nodeId;
      const after = rankNodes(
        `c${i}`,
        100,
        nodes.filter((n) => n.nodeId !== 'node-3'),
      )[0]?.nodeId;
      if (before !== after) movedFrom.push(before);
    }
    expect(movedFrom.length).toBeGreaterThan(300);
    expect(new Set(movedFrom)).toEqual(new Set(['node-3']));
  });

  it('leaves out a node without room for the chunk', () => {
    const ranked = rankNodes('chunk', 1000, [node('full', 5000, 4500), node('roomy')]);
    expect(ranked.map((n) => n.nodeId)).toEqual(['roomy']);
  });
});

describe(writeQuorum.name, () => {
  it.each([
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 3],
    [5, 3],
  ])('of %i replicas is %i', (replicas, quorum) => {
    expect(writeQuorum(replicas)).toBe(quorum);
  });

  it.each([
    [3, 1, 1],
    [3, 3, 3],
    [2, 3, 2],
  ])(
    'of %i replicas with WRITE_QUORUM %i is %i: what is configured, never more than the replicas',
    (replicas, configured, quorum) => {
      expect(writeQuorum(replicas, configured)).toBe(quorum);
    },
  );

  it('caps the factor at the eligible nodes', () => {
    expect(effectiveReplicationFactor(3, 2)).toBe(2);
    expect(effectiveReplicationFactor(3, 5)).toBe(3);
  });
});
