import {
  type ConnectionOptions,
  type DefaultJobOptions,
  type Job,
  Queue,
  type QueueOptions,
  UnrecoverableError,
  Worker,
} from 'bullmq';
import type { RedisSettings } from '@cloudstore/config';
import { createRedisClient, withoutRedisCommand } from '@cloudstore/redis';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Every BullMQ queue of cloudstore, by what its jobs do. */
export const QUEUES = {
  /** Audit events from services that do not own the audit log; the metadata service writes them. */
  audit: 'audit',
  /** Removing chunks nobody needs: of aborted uploads, of purged files. */
  garbageCollection: 'garbage-collection',
  /** Copying chunks to bring them back to their replication factor, one job per chunk. */
  replication: 'replication',
  /** Periodic care of the cluster: replication checks, scrubbing, rebalancing, node inventories. */
  maintenance: 'maintenance',
  /** Periodic care of the auth service: deleting ended sign-in state. */
  authMaintenance: 'auth-maintenance',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * Retried with backoff, kept briefly once done, kept longer when failed for inspection. Finished
 * jobs are bounded by count too, so a flood of them cannot fill Redis before they age out.
 */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
};

const MAINTENANCE_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 100 },
};

/** The job options of each queue: what its jobs are retried with, and how long they are kept. */
export const QUEUE_JOB_OPTIONS: Record<QueueName, DefaultJobOptions> = {
  audit: DEFAULT_JOB_OPTIONS,
  'garbage-collection': DEFAULT_JOB_OPTIONS,
  // One job per chunk; many at once after a node loss, so finished ones are kept by count too.
  replication: {
    attempts: 8,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 24 * 3600, count: 10_000 },
  },
  // Periodic and re-run on schedule: a few attempts, a short history.
  maintenance: MAINTENANCE_JOB_OPTIONS,
  'auth-maintenance': MAINTENANCE_JOB_OPTIONS,
};

/**
 * A Redis connection for BullMQ (credentials and TLS as for every Redis client): workers block
 * on Redis and must retry commands forever (`maxRetriesPerRequest: null`), which is what
 * BullMQ requires.
 */
export function createJobsConnection(redis: RedisSettings): Redis {
  return createRedisClient(redis, undefined, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

/** BullMQ keys live under the cluster's Redis key prefix. */
export function jobsPrefix(redisKeyPrefix: string): string {
  return `${redisKeyPrefix}:bull`;
}

export function createQueue<T>(
  name: QueueName,
  connection: ConnectionOptions,
  redisKeyPrefix: string,
  options: Partial<QueueOptions> = {},
): Queue<T> {
  return new Queue<T>(name, {
    connection,
    prefix: jobsPrefix(redisKeyPrefix),
    defaultJobOptions: QUEUE_JOB_OPTIONS[name],
    ...options,
  });
}

export interface RunningWorker {
  readonly worker: Worker;
  close(): Promise<void>;
}

/**
 * A BullMQ worker on its own connection (workers block on Redis), logging failed jobs; the
 * failure is retried by the job's backoff. A job that failed its last attempt is logged at error
 * and handed to `onExhausted` (to count it): it will not run again by itself, so it is never silent.
 */
export function startWorker<T>(
  name: QueueName,
  redis: RedisSettings,
  redisKeyPrefix: string,
  process: (job: Job<T>) => Promise<unknown>,
  logger: Logger,
  concurrency = 1,
  onExhausted?: (job: Job<T>, error: Error) => void,
): RunningWorker {
  const connection = createJobsConnection(redis);
  const worker = new Worker<T>(name, process, { connection, prefix: jobsPrefix(redisKeyPrefix), concurrency });
  worker.on('failed', (job, error) => {
    const context = { err: error, queue: name, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade };
    const retried = job && job.attemptsMade < (job.opts.attempts ?? 1) && !(error instanceof UnrecoverableError);
    if (!job || retried) return logger.warn(context, 'job failed');
    logger.error(context, 'job failed its last attempt and will not be retried');
    onExhausted?.(job, error);
  });
  worker.on('error', (error) => logger.warn({ err: withoutRedisCommand(error), queue: name }, 'worker error'));
  return {
    worker: worker as Worker,
    close: async () => {
      await worker.close();
      connection.disconnect();
    },
  };
}
