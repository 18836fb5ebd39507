import type { MetadataConfig } from '@cloudstore/config';
import { createLogger, Metrics } from '@cloudstore/observability';
import type { AuditLogRepository } from '../audit/audit-log.repository';
import type { JobQueues } from '../jobs/job-queues';
import type { NodeRegistryService } from '../node-registry/node-registry.service';
import { ClusterStatusService } from './cluster-status.service';
import type { ReplicationRepository } from './replication.repository';

describe(ClusterStatusService.name, () => {
  const replicas = { countSoleCopies: jest.fn<Promise<number>, [string]>() };
  const queues = { checkReplicationNow: jest.fn<Promise<void>, []>().mockResolvedValue(undefined) };
  const sut = new ClusterStatusService(
    {} as MetadataConfig,
    {} as NodeRegistryService,
    replicas as unknown as ReplicationRepository,
    queues as unknown as JobQueues,
    {} as AuditLogRepository,
    createLogger('cluster-status-test', 'silent'),
    new Metrics('metadata-test'),
  );

  beforeEach(() => jest.clearAllMocks());

  it('starts the repair of the chunks only the node still holds, so that it waits for them rather than the next check', async () => {
    replicas.countSoleCopies.mockResolvedValue(4);
    expect(await sut.soleCopies('node-1')).toEqual({ soleCopies: 4 });
    expect(replicas.countSoleCopies).toHaveBeenCalledWith('node-1');
    expect(queues.checkReplicationNow).toHaveBeenCalledTimes(1);
  });

  it('queues nothing when the node holds no sole copy', async () => {
    replicas.countSoleCopies.mockResolvedValue(0);
    expect(await sut.soleCopies('node-1')).toEqual({ soleCopies: 0 });
    expect(queues.checkReplicationNow).not.toHaveBeenCalled();
  });

  it('refuses a node id no node can have', async () => {
    await expect(sut.soleCopies('../etc')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(replicas.countSoleCopies).not.toHaveBeenCalled();
  });
});
