import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export const REPLICA_STATES = ['ok', 'missing', 'corrupt'] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];

/** A copy of a chunk on a node, written and verified. `missing`/`corrupt` ones await repair. */
@Entity({ name: 'chunk_replicas' })
// A node's replicas in chunk order: what a node's walk pages through.
@Index('chunk_replicas_node_chunk_idx', ['nodeId', 'chunkId'])
// Replicas awaiting repair, found without reading the healthy ones.
@Index('chunk_replicas_broken_idx', ['chunkId'], { where: "state <> 'ok'" })
@Check('chunk_replicas_state_check', `"state" IN ('ok', 'missing', 'corrupt')`)
export class ChunkReplicaEntity {
  @PrimaryColumn({ type: 'text' })
  chunkId!: string;

  @PrimaryColumn({ type: 'text' })
  nodeId!: string;

  @Column({ type: 'text', default: 'ok' })
  state!: ReplicaState;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  verifiedAt!: Date;
}
