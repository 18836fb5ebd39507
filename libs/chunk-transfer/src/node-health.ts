import { Gauge, type Registry } from 'prom-client';

/** `up`: reads and new replicas go there; `suspect`: skipped while anything else can serve, until a probe succeeds. */
export type NodeCondition = 'up' | 'suspect';

export interface NodeHealthOptions {
  /** Failed or too slow reads in a row that make a node suspect (a refused connection does at once). */
  readonly failuresToSuspect: number;
  /** How often a suspect node is probed (gRPC health check); one answer makes it up again. */
  readonly probeIntervalMs: number;
  /** The first-byte deadline before a read is hedged, bounds of the one derived from observed latency. */
  readonly minHedgeDelayMs: number;
  readonly maxHedgeDelayMs: number;
}

export const DEFAULT_NODE_HEALTH: NodeHealthOptions = {
  failuresToSuspect: 2,
  probeIntervalMs: 1000,
  minHedgeDelayMs: 250,
  maxHedgeDelayMs: 1000,
};

/** Is the node answering? Resolves when it is, rejects when it is not (within the probe's deadline). */
export type NodeProbe = (address: string, timeoutMs: number) => Promise<void>;

/** Weight of the newest sample in the moving average of a node's first-byte latency. */
const LATENCY_SMOOTHING = 0.3;
/** A node this many times slower than the fastest candidate is asked after the others. */
const SLOW_FACTOR = 4;

interface NodeRecord {
  nodeId: string;
  address: string;
  condition: NodeCondition;
  failures: number;
  latencyMs: number | undefined;
  probe: NodeJS.Timeout | undefined;
}

export interface Replica {
  readonly nodeId: string;
  readonly address: string;
}

/**
 * What this process has seen of each storage node: a circuit breaker per node (repeated failures
 * or timeouts make it suspect until a health probe answers) and a moving average of how fast it
 * starts answering, which orders replicas and sets the hedge delay. Heartbeats (down after
 * NODE_DOWN_AFTER_SECONDS) are the metadata's slower, cluster-wide view; this one reacts within a
 * read or two.
 */
export class NodeHealth {
  private readonly nodes = new Map<string, NodeRecord>();
  private closed = false;

  constructor(
    private readonly options: NodeHealthOptions,
    private readonly probe: NodeProbe,
  ) {}

  condition(nodeId: string): NodeCondition {
    return this.nodes.get(nodeId)?.condition ?? 'up';
  }

  /** Every node seen so far with its condition, for metrics and the admin view. */
  snapshot(): { nodeId: string; condition: NodeCondition }[] {
    return [...this.nodes.values()].map((n) => ({ nodeId: n.nodeId, condition: n.condition }));
  }

  /**
   * The replicas best first: nodes that are up before suspect ones, much slower ones after the
   * rest; otherwise in the order given (which spreads consecutive chunks over the nodes).
   */
  order<R extends Replica>(replicas: readonly R[]): R[] {
    const latencies = replicas.map((r) => this.nodes.get(r.nodeId)?.latencyMs).filter((l) => l !== undefined);
    const fastest = latencies.length > 0 ? Math.min(...latencies) : 0;
    const rank = (r: R) => {
      const node = this.nodes.get(r.nodeId);
      if (node?.condition === 'suspect') return 2;
      return node?.latencyMs !== undefined && node.latencyMs > SLOW_FACTOR * fastest + this.options.minHedgeDelayMs ? 1 : 0;
    };
    return replicas
      .map((replica, i) => ({ replica, i, rank: rank(replica) }))
      .sort((a, b) => a.rank - b.rank || a.i - b.i)
      .map((r) => r.replica);
  }

  /** How long a read from this node may go without a byte before another replica is asked too. */
  hedgeDelayMs(nodeId: string): number {
    const latency = this.nodes.get(nodeId)?.latencyMs;
    const { minHedgeDelayMs, maxHedgeDelayMs } = this.options;
    return latency === undefined ? minHedgeDelayMs : Math.min(maxHedgeDelayMs, Math.max(minHedgeDelayMs, 3 * latency));
  }

  /** The node answered: its first byte came after `latencyMs`. */
  recordSuccess(replica: Replica, latencyMs: number): void {
    const node = this.record(replica);
    node.failures = 0;
    node.latencyMs = node.latencyMs === undefined ? latencyMs : node.latencyMs + LATENCY_SMOOTHING * (latencyMs - node.latencyMs);
    if (node.condition === 'suspect') this.markUp(node);
  }

  /**
   * The node failed a read, or was too slow to matter. `refused` (nothing listens there, or the
   * channel is down) makes it suspect at once; otherwise it takes `failuresToSuspect` in a row.
   */
  recordFailure(replica: Replica, refused = false): void {
    const node = this.record(replica);
    node.failures += 1;
    if (node.condition === 'up' && (refused || node.failures >= this.options.failuresToSuspect)) {
      node.condition = 'suspect';
      this.scheduleProbe(node);
    }
  }

  close(): void {
    this.closed = true;
    for (const node of this.nodes.values()) clearTimeout(node.probe);
  }

  private record(replica: Replica): NodeRecord {
    let node = this.nodes.get(replica.nodeId);
    if (!node) {
      node = { ...replica, condition: 'up', failures: 0, latencyMs: undefined, probe: undefined };
      this.nodes.set(replica.nodeId, node);
    }
    node.address = replica.address;
    return node;
  }

  private markUp(node: NodeRecord): void {
    node.condition = 'up';
    node.failures = 0;
    clearTimeout(node.probe);
    node.probe = undefined;
  }

  private scheduleProbe(node: NodeRecord): void {
    if (this.closed) return;
    clearTimeout(node.probe);
    node.probe = setTimeout(() => {
      const started = Date.now();
      this.probe(node.address, this.options.probeIntervalMs).then(
        () => {
          // The probe says it answers; reads will tell how fast, starting from a pessimistic guess.
          node.latencyMs = Math.max(node.latencyMs ?? 0, Date.now() - started);
          this.markUp(node);
        },
        () => {
          if (node.condition === 'suspect') this.scheduleProbe(node);
        },
      );
    }, this.options.probeIntervalMs);
    node.probe.unref();
  }
}

/** A gauge `<prefix>_storage_node_condition{node_id, condition}`: 1 for the node's condition in this process. */
export function registerNodeHealthGauge(health: NodeHealth, registry: Registry, name: string): Gauge<'node_id' | 'condition'> {
  return new Gauge({
    name,
    help: 'Storage nodes as this process sees them: up, or suspect (circuit open until a probe answers).',
    labelNames: ['node_id', 'condition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { nodeId, condition } of health.snapshot()) {
        this.set({ node_id: nodeId, condition: 'up' }, condition === 'up' ? 1 : 0);
        this.set({ node_id: nodeId, condition: 'suspect' }, condition === 'suspect' ? 1 : 0);
      }
    },
  });
}
