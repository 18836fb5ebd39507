import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AuthConfig } from '@cloudstore/config';
import { createJobsConnection, createQueue, QUEUES, type RunningWorker, startWorker } from '@cloudstore/jobs';
import { LOGGER, type Logger, Metrics } from '@cloudstore/observability';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { AUTH_CONFIG } from '../auth.tokens';
import { AuthRetentionRepository, type DeletedAuthState } from './auth-retention.repository';

/** The one job of the auth-maintenance queue. */
export const DELETE_ENDED_STATE_JOB = 'delete-ended-auth-state';

/** How often the sweep runs. */
export const RETENTION_INTERVAL_MS = 3600 * 1000;

/**
 * Ended state is kept this long before it is deleted: a client that comes back with a token
 * revoked or expired a moment ago is still told TOKEN_REVOKED or TOKEN_EXPIRED, not TOKEN_INVALID.
 */
export const ENDED_STATE_KEPT_MS = 24 * 3600 * 1000;

const KINDS: Record<keyof DeletedAuthState, string> = {
  refreshTokens: 'refresh_token',
  signIns: 'sign_in',
  passwordResets: 'password_reset',
};

/**
 * Deletes auth's ended state (expired or revoked refresh tokens and sign-ins, spent or expired
 * reset links) once an hour, on one schedule for the whole cluster however many auth replicas run.
 * Pending logins and their codes live in Redis with a TTL and need no sweep.
 */
@Injectable()
export class AuthRetentionProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly connection: Redis;
  readonly queue: Queue;
  private running: RunningWorker | undefined;
  private readonly deleted: Counter<'kind'>;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly retention: AuthRetentionRepository,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: Metrics,
  ) {
    this.connection = createJobsConnection(config);
    this.queue = createQueue(QUEUES.authMaintenance, this.connection, config.REDIS_KEY_PREFIX);
    this.deleted = new Counter({
      name: 'cloudstore_auth_state_deleted_total',
      help: 'Ended sign-in state deleted by the retention sweep, by kind (refresh_token, sign_in, password_reset).',
      labelNames: ['kind'],
      registers: [metrics.registry],
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      DELETE_ENDED_STATE_JOB,
      { every: RETENTION_INTERVAL_MS },
      { name: DELETE_ENDED_STATE_JOB },
    );
    this.running = startWorker(
      QUEUES.authMaintenance,
      this.config,
      this.config.REDIS_KEY_PREFIX,
      () => this.deleteEndedState(),
      this.logger,
    );
  }

  /** One sweep: what ended more than ENDED_STATE_KEPT_MS ago goes; the counts are logged and counted. */
  async deleteEndedState(): Promise<DeletedAuthState> {
    const deleted = await this.retention.deleteEndedBefore(new Date(Date.now() - ENDED_STATE_KEPT_MS));
    for (const [key, kind] of Object.entries(KINDS)) this.deleted.inc({ kind }, deleted[key as keyof DeletedAuthState]);
    this.logger.info(deleted, 'deleted ended sign-in state');
    return deleted;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running?.close();
    await this.queue.close();
    this.connection.disconnect();
  }
}
