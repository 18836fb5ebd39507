import type { publicApi } from '@cloudstore/contracts';
import { waitFor } from '@cloudstore/testing';
import { signUp, type TestUser } from './support/accounts';
import { adminGrpcClient, bearer } from './support/api-clients';
import { restUpload } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const ADMIN = { username: 'audit_admin', email: 'audit_admin@example.com', password: 'Admin-Passw0rd-2026!' };

interface EventView {
  event_id: string;
  occurred_at: number;
  operation: string;
  outcome: string;
  error_code?: string;
  user_id?: string;
  file_id?: string;
  filename?: string;
  details: Record<string, string>;
}

interface PageView {
  events: EventView[];
  next_cursor?: string;
}

describe('reading the audit log: own events, everyone’s for admins, cursor paged (real cluster)', () => {
  const env = TestCluster.perFile({}, { admin: ADMIN });
  let alice: TestUser;
  let bob: TestUser;
  let aliceFile: string;
  let admin: ReturnType<typeof adminGrpcClient>;

  async function page(path: string, token: string): Promise<PageView> {
    const res = await env.rest.get<PageView>(path, token);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Every event of a listing, following next_cursor page by page. */
  async function everyPage(path: string, token: string, limit: number): Promise<EventView[][]> {
    const pages: EventView[][] = [];
    let cursor: string | undefined;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const body = await page(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, token);
      pages.push(body.events);
      cursor = body.next_cursor;
    } while (cursor);
    return pages;
  }

  /** Auth's events reach the log through a queue: wait until the user's listing shows `operation`. */
  async function waitForEvent(user: TestUser, operation: string, outcome = 'success'): Promise<EventView> {
    return waitFor(
      `${user.username}'s ${operation} ${outcome} in the audit log`,
      async () => (await page(`/v1/audit?operation=${operation}&outcome=${outcome}`, user.token)).events[0],
    );
  }

  beforeAll(async () => {
    admin = adminGrpcClient(`127.0.0.1:${env.cluster.ports.grpc}`);
    alice = await signUp(env.rest, env.smtp, 'alice');
    bob = await signUp(env.rest, env.smtp, 'bob');
    aliceFile = await restUpload(env.cluster.httpUrl, alice.token, 'alice.txt', Buffer.from('alice'));
    await restUpload(env.cluster.httpUrl, bob.token, 'bob.txt', Buffer.from('bob'));
    // A wrong password for an existing account: a failure, audited with the account.
    const wrong = await env.rest.post('/v1/auth/login', { username: alice.username, password: 'Wrong-Passw0rd-!!' });
    if (wrong.status !== 401) throw new Error(`a wrong password answered ${wrong.status}`);
    const queued = ['auth.register', 'auth.login_password', 'auth.login'];
    await Promise.all([
      ...[alice, bob].flatMap((user) => queued.map((operation) => waitForEvent(user, operation))),
      waitForEvent(alice, 'auth.login', 'failure'),
    ]);
  });

  afterAll(() => admin?.close());

  it('shows each user their own events only, the same over REST and gRPC', async () => {
    for (const [user, other] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      const rest = (await page('/v1/audit?limit=1000', user.token)).events;
      expect(rest.length).toBeGreaterThanOrEqual(4);
      expect(new Set(rest.map((e) => e.user_id))).toEqual(new Set([user.userId]));
      expect(rest.map((e) => e.operation)).toEqual(expect.arrayContaining(['auth.register', 'auth.login', 'file.upload']));
      expect(JSON.stringify(rest)).not.toContain(other.userId);

      const grpc = await env.grpc.call('listAuditEvents', { ...emptyFilter(), authToken: user.token, limit: 1000 });
      expect(grpc.success).toBe(true);
      expect(grpc.events.map((e) => e.eventId)).toEqual(rest.map((e) => e.event_id));
      expect(new Set(grpc.events.map((e) => e.userId))).toEqual(new Set([user.userId]));
    }
  });

  it('names the file of a file event and the outcome and code of a failure, newest first, in Unix seconds', async () => {
    const events = (await page('/v1/audit?limit=1000', alice.token)).events;
    expect(events.find((e) => e.operation === 'file.upload')).toMatchObject({
      outcome: 'success',
      file_id: aliceFile,
      filename: 'alice.txt',
    });
    expect(events.find((e) => e.operation === 'auth.login' && e.outcome === 'failure')).toMatchObject({
      error_code: 'INVALID_CREDENTIALS',
    });
    const times = events.map((e) => e.occurred_at);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(times.every((t) => Number.isInteger(t) && Math.abs(t - Date.now() / 1000) < 3600)).toBe(true);
  });

  it('filters by an operation, a prefix of one, the outcome and a time range', async () => {
    const ops = async (query: string) => (await page(`/v1/audit?${query}`, alice.token)).events.map((e) => e.operation);
    expect(await ops('operation=file.upload')).toEqual(['file.upload']);
    expect(new Set(await ops('operation=auth.*'))).toEqual(new Set(['auth.register', 'auth.login_password', 'auth.login']));
    expect(await ops('outcome=failure')).toEqual(['auth.login']);
    const now = Math.floor(Date.now() / 1000);
    expect(await ops(`from=${now + 3600}`)).toEqual([]);
    expect(await ops(`to=${now - 3600}`)).toEqual([]);
    expect((await ops(`from=${now - 3600}&to=${now + 3600}`)).length).toBeGreaterThanOrEqual(4);
  });

  it('pages by cursor: every event exactly once, in the order of one long page', async () => {
    const all = (await page('/v1/audit?limit=1000', alice.token)).events.map((e) => e.event_id);
    const pages = await everyPage('/v1/audit', alice.token, 2);
    expect(pages.slice(0, -1).every((p) => p.length === 2)).toBe(true);
    expect(pages.flat().map((e) => e.event_id)).toEqual(all);

    const grpcIds: string[] = [];
    let cursor = '';
    do {
      const res = await env.grpc.call('listAuditEvents', { ...emptyFilter(), authToken: alice.token, limit: 3, cursor });
      grpcIds.push(...res.events.map((e) => e.eventId));
      cursor = res.nextCursor;
    } while (cursor);
    expect(grpcIds).toEqual(all);
  });

  it("shows an admin everyone's events, and one user's when asked", async () => {
    const everyone = (await everyPage('/v1/admin/audit', env.admin.token, 100)).flat();
    const users = new Set(everyone.map((e) => e.user_id));
    expect(users.has(alice.userId) && users.has(bob.userId)).toBe(true);
    expect(new Set(everyone.map((e) => e.event_id)).size).toBe(everyone.length);

    const onlyBob = (await page(`/v1/admin/audit?user_id=${bob.userId}&limit=1000`, env.admin.token)).events;
    expect(onlyBob.map((e) => e.event_id)).toEqual((await page('/v1/audit?limit=1000', bob.token)).events.map((e) => e.event_id));

    const grpc = await admin.call(
      'listAllAuditEvents',
      { ...emptyFilter(), authToken: '', userId: alice.userId, operation: 'file.*', limit: 10 },
      { metadata: bearer(env.admin.token) },
    );
    expect(grpc.events.map((e) => [e.userId, e.operation, e.fileId])).toEqual([[alice.userId, 'file.upload', aliceFile]]);
  });

  it('refuses the admin listing to a user who is not an admin: 403 PERMISSION_DENIED, over gRPC too', async () => {
    const res = await env.rest.get('/v1/admin/audit', alice.token);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body['code']).toBe('PERMISSION_DENIED');
    await expect(
      admin.call('listAllAuditEvents', { ...emptyFilter(), authToken: alice.token, userId: bob.userId }),
    ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('refuses a bad filter with 400 INVALID_ARGUMENT naming it, over gRPC too', async () => {
    for (const [query, message] of [
      ['outcome=ok', 'outcome'],
      ['from=yesterday', 'from'],
      ['operation=file%20upload', 'operation'],
      ['cursor=not-a-cursor', 'cursor'],
      [`from=200&to=100`, 'from must not be after to'],
    ]) {
      const res = await env.rest.get(`/v1/audit?${query}`, alice.token);
      expect({ query, status: res.status, code: res.body['code'] }).toEqual({ query, status: 400, code: 'INVALID_ARGUMENT' });
      expect(String(res.body['detail'])).toContain(message);
    }
    expect((await env.rest.get('/v1/admin/audit?user_id=bob', env.admin.token)).body['code']).toBe('INVALID_ARGUMENT');
    await expect(
      env.grpc.call('listAuditEvents', { ...emptyFilter(), authToken: alice.token, outcome: 'maybe' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('returns nothing secret: no password, token or keyed hash of a name typed in', async () => {
    // A login with a name that matches no account is audited with a keyed hash of the name.
    await env.rest.post('/v1/auth/login', { username: 'no_such_user_x', password: alice.password });
    await waitFor('the unknown-name login in the log', async () => {
      const failures = await page('/v1/admin/audit?operation=auth.login&outcome=failure&limit=1000', env.admin.token);
      return failures.events.some((e) => !e.user_id);
    });
    const everyone = (await everyPage('/v1/admin/audit', env.admin.token, 1000)).flat();
    const text = JSON.stringify([everyone, (await page('/v1/audit?limit=1000', alice.token)).events]);
    for (const secret of [alice.password, alice.token, alice.refreshToken, bob.token, 'hmac-sha256', 'attempted']) {
      expect(text).not.toContain(secret);
    }
  });
});

function emptyFilter(): Omit<publicApi.ListAllAuditEventsRequest, 'authToken'> {
  return { limit: 0, cursor: '', operation: '', outcome: '', from: 0, to: 0, userId: '' };
}
