import { Check, Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { bigintToNumber } from '@cloudstore/database';

/** What an operator decided for a node; liveness (up/down) comes from its heartbeats. */
export const NODE_STATES = ['active', 'draining', 'drained'] as const;
export type NodeState = (typeof NODE_STATES)[number];

@Entity({ name: 'storage_nodes' })
@Check('storage_nodes_state_check', `"state" IN ('active', 'draining', 'drained')`)
export class StorageNodeEntity {
  @PrimaryColumn({ type: 'text' })
  nodeId!: string;

  /** host:port that services dial. */
  @Column({ type: 'text' })
  address!: string;

  @Column({ type: 'bigint', default: 0, transformer: bigintToNumber })
  capacityBytes!: number;

  @Column({ type: 'bigint', default: 0, transformer: bigintToNumber })
  usedBytes!: number;

  @Column({ type: 'bigint', default: 0, transformer: bigintToNumber })
  chunkCount!: number;

  /** The identity of the node's data directory at its last registration; another one means a wiped disk. */
  @Column({ type: 'text', nullable: true })
  diskId!: string | null;

  @Column({ type: 'text', default: 'active' })
  state!: NodeState;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  lastHeartbeatAt!: Date;

  @CreateDateColumn({ type: 'timestamptz' })
  registeredAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
