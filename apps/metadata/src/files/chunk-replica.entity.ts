import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export const REPLICA_STATES = ['ok', 'missing', 'corrupt'] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];

/** A copy of a chunk on a node, written and verified. `missing`/`corrupt` ones await repair. */
@Entity({ name: 'chunk_replicas' })
@Index('chunk_replicas_node_idx', ['nodeId'])
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
