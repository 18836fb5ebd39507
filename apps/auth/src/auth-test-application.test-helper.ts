import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AuthConfig, authConfigSchema, loadConfig } from '@cloudstore/config';
import { type AuditEvent, createQueue, QUEUES } from '@cloudstore/jobs';
import { MasterKeyring, masterKey } from '@cloudstore/master-key';
import { createLogger, Metrics } from '@cloudstore/observability';
import { mailText, newUserInput, startTestApplication, type TestApplication } from '@cloudstore/testing';
import type { Queue } from 'bullmq';
import { AuthModule } from './auth.module';
import type { UserEntity } from './users/user.entity';
import { UsersRepository } from './users/users.repository';
import { AUTH_SCHEMA, createAuthDataSource } from './database/auth-data-source';

export interface AuthTestApplication extends TestApplication {
  readonly config: AuthConfig;
  /** Where the module sends its audit events (the metadata service would write them). */
  readonly auditQueue: Queue<AuditEvent>;
}

/**
 * The auth service's Nest module on a migrated database of its own and its own Redis prefix,
 * without a gRPC server: what the medium tests call services of. `env` adds to the test stores' variables.
 */
export async function startAuthTestApplication(env: Record<string, string> = {}): Promise<AuthTestApplication> {
  let config!: AuthConfig;
  let auditQueue!: Queue<AuditEvent>;
  const test = await startTestApplication(createAuthDataSource, AUTH_SCHEMA, (stores, jobs) => {
    config = loadConfig(authConfigSchema, { ...stores.env, ...env });
    auditQueue = createQueue<AuditEvent>(QUEUES.audit, jobs, config.REDIS_KEY_PREFIX);
    return AuthModule.register({
      config,
      logger: createLogger('auth-test', 'silent'),
      metrics: new Metrics('auth'),
      dataSource: stores.dataSource,
      redis: stores.redis.client,
      auditQueue,
      masterKeys: new MasterKeyring(masterKey(config.MASTER_KEY ?? randomBytes(32))),
    });
  });
  return { ...test, config, auditQueue };
}

/** The mails to `email` in an outbox (OTP_OUTBOX_DIR), oldest first, decoded (mailText). */
export async function outboxMailsTo(outbox: string, email: string): Promise<string[]> {
  const files = (await readdir(outbox).catch(() => [] as string[])).sort();
  const texts = await Promise.all(files.map((file) => readFile(join(outbox, file), 'utf8')));
  return texts.map(mailText).filter((text) => text.includes(`To: ${email}`));
}

/** A new basic account stored directly, with this password hash. */
export function insertTestUser(test: AuthTestApplication, passwordHash = 'x'): Promise<UserEntity> {
  const { username, email } = newUserInput();
  return test.app
    .get(UsersRepository)
    .insert({ username, usernameKey: username, email, emailKey: email, passwordHash, role: 'basic' });
}

/** The audit events queued for a user, oldest first, as `operation/status[/code]`. */
export async function auditedFor(test: AuthTestApplication, userId: string): Promise<string[]> {
  const jobs = await test.auditQueue.getJobs(['waiting', 'delayed', 'completed', 'failed', 'active']);
  return jobs
    .filter((j) => j.data.userId === userId)
    .sort((a, b) => a.timestamp - b.timestamp)
    .map((j) => `${j.data.operation}/${j.data.status}${j.data.errorCode ? `/${j.data.errorCode}` : ''}`);
}
