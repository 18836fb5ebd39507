import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager, Repository } from 'typeorm';
import { type NodeState, StorageNodeEntity } from './storage-node.entity';

export interface NodeUsage {
  readonly capacityBytes: number;
  readonly usedBytes: number;
  readonly chunkCount: number;
}

export interface NodeWithLiveness extends StorageNodeEntity {
  /** Heard from within the liveness window, by the database's clock. */
  readonly alive: boolean;
}

/** SQL of the node registry. Liveness is judged by the database clock, the same for every replica. */
@Injectable()
export class NodeRegistryRepository {
  private readonly nodes: Repository<StorageNodeEntity>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.nodes = dataSource.getRepository(StorageNodeEntity);
  }

  /**
   * Inserts the node or refreshes its address, usage and disk identity (a re-registration is a
   * heartbeat too). When it comes back with another disk than it had, every replica it was said
   * to hold is marked missing in the same transaction, so no reader or repair counts them a
   * moment longer. Returns how many were. `onJoin` runs in the transaction when the node is new.
   */
  async register(
    nodeId: string,
    address: string,
    usage: NodeUsage,
    diskId: string,
    onJoin?: (manager: EntityManager) => Promise<void>,
  ): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const [previous] = await manager.query<{ disk_id: string | null }[]>(
        `SELECT "disk_id" FROM "metadata"."storage_nodes" WHERE "node_id" = $1 FOR UPDATE`,
        [nodeId],
      );
      await manager
        .createQueryBuilder()
        .insert()
        .into(StorageNodeEntity)
        .values({ nodeId, address, ...usage, diskId: diskId || null, lastHeartbeatAt: () => 'now()' })
        .orUpdate(
          ['address', 'capacity_bytes', 'used_bytes', 'chunk_count', 'disk_id', 'last_heartbeat_at', 'updated_at'],
          ['node_id'],
        )
        .execute();
      if (!previous) await onJoin?.(manager);
      if (!previous?.disk_id || !diskId || previous.disk_id === diskId) return 0;
      const [, lost] = await manager.query<[unknown, number]>(
        `UPDATE "metadata"."chunk_replicas" SET "state" = 'missing' WHERE "node_id" = $1 AND "state" = 'ok'`,
        [nodeId],
      );
      return lost;
    });
  }

  async find(nodeId: string): Promise<StorageNodeEntity | null> {
    return this.nodes.findOneBy({ nodeId });
  }

  /** Records a heartbeat; false when the node is not registered. */
  async touch(nodeId: string, usage: NodeUsage): Promise<boolean> {
    const result = await this.nodes
      .createQueryBuilder()
      .update()
      .set({ ...usage, lastHeartbeatAt: () => 'now()' })
      .where('node_id = :nodeId', { nodeId })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async setState(nodeId: string, state: NodeState): Promise<void> {
    await this.nodes.update({ nodeId }, { state });
  }

  /** Starts a drain; true when the node exists (draining or drained already is fine). */
  async markDraining(nodeId: string): Promise<boolean> {
    const result = await this.nodes
      .createQueryBuilder()
      .update()
      .set({ state: 'draining' })
      .where(`node_id = :nodeId AND state = 'active'`, { nodeId })
      .execute();
    return (result.affected ?? 0) > 0 || (await this.nodes.existsBy({ nodeId }));
  }

  async listWithLiveness(downAfterSeconds: number): Promise<NodeWithLiveness[]> {
    const { entities, raw } = await this.nodes
      .createQueryBuilder('node')
      .addSelect('node.last_heartbeat_at > now() - make_interval(secs => :downAfter)', 'alive')
      .setParameter('downAfter', downAfterSeconds)
      .orderBy('node.node_id')
      .getRawAndEntities<{ alive: boolean }>();
    return entities.map((entity, i) => Object.assign(entity, { alive: raw[i]?.alive === true }));
  }
}
