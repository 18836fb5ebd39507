import { type ConnectionOptions, type DefaultJobOptions, Queue, type QueueOptions } from 'bullmq';
import { Redis } from 'ioredis';

/** Every BullMQ queue of cloudstore, by what its jobs do. */
export const QUEUES = {
  /** Audit events from services that do not own the audit log; the metadata service writes them. */
  audit: 'audit',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Retried with backoff, kept briefly once done, kept longer when failed for inspection. */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * A Redis connection for BullMQ: workers block on Redis and must retry commands forever
 * (`maxRetriesPerRequest: null`), which is what BullMQ requires.
 */
export function createJobsConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true, connectTimeout: 5000 });
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
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
    ...options,
  });
}
