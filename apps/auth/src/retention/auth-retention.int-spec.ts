import { randomUUID } from 'node:crypto';
import { Metrics } from '@cloudstore/observability';
import type { Counter } from 'prom-client';
import { type AuthTestApplication, insertTestUser, startAuthTestApplication } from '../auth-test-application.test-helper';
import {
  AuthRetentionProcessor,
  DELETE_ENDED_STATE_JOB,
  ENDED_STATE_KEPT_MS,
  RETENTION_INTERVAL_MS,
} from './auth-retention.processor';

const HOUR = 3600 * 1000;

/** A time `ms` from now (negative: ago). */
const at = (ms: number) => new Date(Date.now() + ms);
const longAgo = () => at(-ENDED_STATE_KEPT_MS - HOUR);
const justNow = () => at(-HOUR);
const later = () => at(HOUR);

describe(AuthRetentionProcessor.name, () => {
  let test: AuthTestApplication;
  let sut: AuthRetentionProcessor;
  let userId: string;

  beforeAll(async () => {
    test = await startAuthTestApplication();
    sut = test.app.get(AuthRetentionProcessor);
    userId = (await insertTestUser(test)).id;
  });

  afterAll(async () => {
    await test.close();
  });

  async function insert(table: string, name: string, row: Record<string, unknown>): Promise<string> {
    const values = { user_id: userId, ...row };
    const columns = Object.keys(values);
    await test.stores.dataSource.query(
      `INSERT INTO "auth"."${table}" ("id", ${columns.map((c) => `"${c}"`).join(', ')})
       VALUES ($1, ${columns.map((_, i) => `$${i + 2}`).join(', ')})`,
      [name, ...Object.values(values)],
    );
    return name;
  }

  async function remaining(table: string, ids: string[]): Promise<string[]> {
    const rows = await test.stores.dataSource.query<{ id: string }[]>(`SELECT "id" FROM "auth"."${table}" WHERE "id" = ANY($1)`, [
      ids,
    ]);
    return rows.map((r) => r.id).sort();
  }

  async function deletedTotal(kind: string): Promise<number> {
    const counter = test.app.get(Metrics).registry.getSingleMetric('cloudstore_auth_state_deleted_total') as Counter<'kind'>;
    return (await counter.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;
  }

  it('runs on one schedule for the whole cluster, hourly', async () => {
    expect(await sut.queue.getJobScheduler(DELETE_ENDED_STATE_JOB)).toMatchObject({ every: RETENTION_INTERVAL_MS });
  });

  it('deletes refresh tokens, sign-ins and reset links that ended a while ago, and keeps the rest', async () => {
    const before = {
      refresh_token: await deletedTotal('refresh_token'),
      sign_in: await deletedTotal('sign_in'),
      password_reset: await deletedTotal('password_reset'),
    };
    const token = (row: Record<string, unknown>) =>
      insert('refresh_tokens', randomUUID(), { family_id: randomUUID(), token_hash: randomUUID(), ...row });
    const tokens = {
      gone: [await token({ expires_at: longAgo() }), await token({ expires_at: later(), revoked_at: longAgo() })],
      kept: [
        await token({ expires_at: later() }),
        // Rotated, its sign-in still live: kept to catch its reuse.
        await token({ expires_at: later(), used_at: longAgo() }),
        await token({ expires_at: justNow() }),
        await token({ expires_at: later(), revoked_at: justNow() }),
      ],
    };
    const signIn = (row: Record<string, unknown>) => insert('sign_ins', randomUUID(), row);
    const signIns = {
      gone: [await signIn({ expires_at: longAgo() }), await signIn({ expires_at: later(), revoked_at: longAgo() })],
      kept: [
        await signIn({ expires_at: later() }),
        await signIn({ expires_at: justNow() }),
        await signIn({ expires_at: later(), revoked_at: justNow() }),
      ],
    };
    const reset = (row: Record<string, unknown>) => insert('password_resets', randomUUID(), { token_hash: randomUUID(), ...row });
    const resets = {
      gone: [await reset({ expires_at: longAgo() }), await reset({ expires_at: later(), used_at: longAgo() })],
      kept: [await reset({ expires_at: later() }), await reset({ expires_at: justNow(), used_at: justNow() })],
    };

    await sut.deleteEndedState();

    expect(await remaining('refresh_tokens', [...tokens.gone, ...tokens.kept])).toEqual([...tokens.kept].sort());
    expect(await remaining('sign_ins', [...signIns.gone, ...signIns.kept])).toEqual([...signIns.kept].sort());
    expect(await remaining('password_resets', [...resets.gone, ...resets.kept])).toEqual([...resets.kept].sort());
    // Counted whichever sweep took them: this one, or the scheduled one running meanwhile.
    expect({
      refresh_token: (await deletedTotal('refresh_token')) - before.refresh_token,
      sign_in: (await deletedTotal('sign_in')) - before.sign_in,
      password_reset: (await deletedTotal('password_reset')) - before.password_reset,
    }).toEqual({ refresh_token: 2, sign_in: 2, password_reset: 2 });
  });

  it('deletes nothing more when run again', async () => {
    expect(await sut.deleteEndedState()).toEqual({ refreshTokens: 0, signIns: 0, passwordResets: 0 });
  });
});
