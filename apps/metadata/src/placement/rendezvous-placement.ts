import { createHash } from 'node:crypto';

export interface PlacementNode {
  readonly nodeId: string;
  readonly address: string;
  readonly capacityBytes: number;
  readonly usedBytes: number;
}

/** A uniform number in (0, 1) from the chunk and node ids: the same inputs always give the same value. */
function unitHash(chunkId: string, nodeId: string): number {
  const digest = createHash('sha256').update(chunkId).update('\0').update(nodeId).digest();
  // 52 bits keep the value exact as a double; +1 and /2^52+2 keep it strictly inside (0, 1).
  const high = digest.readUInt32BE(0) & 0xfffff;
  const low = digest.readUInt32BE(4);
  return (high * 2 ** 32 + low + 1) / (2 ** 52 + 2);
}

/**
 * Weighted rendezvous (highest random weight) hashing: every node gets the score
 * -ln(u) / weight for a hash u of (chunk, node), lowest first. The order is deterministic for a
 * chunk and a set of nodes, spreads chunks in proportion to the weights, and moves only the
 * chunks of a node that joins or leaves. The weight is the node's capacity, so a bigger node
 * holds proportionally more, and a chunk's best nodes stay the same as nodes fill up (which is
 * what lets the rebalancer move replicas toward this ranking without churn); a node without room
 * for the chunk is left out.
 */
export function rankNodes(chunkId: string, chunkSize: number, nodes: readonly PlacementNode[]): PlacementNode[] {
  return nodes
    .filter((node) => node.capacityBytes - node.usedBytes > chunkSize)
    .map((node) => ({ node, score: -Math.log(unitHash(chunkId, node.nodeId)) / node.capacityBytes }))
    .sort((a, b) => a.score - b.score || a.node.nodeId.localeCompare(b.node.nodeId))
    .map(({ node }) => node);
}

/** Replicas a chunk gets: the configured factor, capped at the nodes that can take it. */
export function effectiveReplicationFactor(configured: number, eligibleNodes: number): number {
  return Math.max(0, Math.min(configured, eligibleNodes));
}

/** A write counts once `configured` (by default a majority) of its replicas acknowledged it; never more than it has. */
export function writeQuorum(replicationFactor: number, configured?: number): number {
  return Math.min(replicationFactor, configured ?? Math.floor(replicationFactor / 2) + 1);
}
