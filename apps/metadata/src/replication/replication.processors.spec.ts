import { UnrecoverableError } from 'bullmq';
import { ReplicationProcessors } from './replication.processors';

describe(ReplicationProcessors.name, () => {
  it('fails a maintenance job it does not know at once, without retries (UnrecoverableError)', async () => {
    // An unknown job touches none of the collaborators.
    const sut = new ReplicationProcessors(...(Array(9).fill(undefined) as ConstructorParameters<typeof ReplicationProcessors>));
    await expect(sut.maintain({ name: 'no-such-job', data: {} })).rejects.toBeInstanceOf(UnrecoverableError);
  });
});
