import { randomUUID } from 'node:crypto';
import { credentials, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { ADMIN_SERVICE, CLOUD_STORAGE_SERVICE } from '@cloudstore/contracts';
import { GrpcServiceClient } from '@cloudstore/grpc';
import { waitFor } from '@cloudstore/testing';
import { signUp, type TestUser } from './support/accounts';
import { bearer, type publicGrpcClient, rawUnary } from './support/api-clients';
import { grpcDownload, grpcUpload } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const ADMIN = { username: 'iso_admin', email: 'iso_admin@example.com', password: 'Admin-Passw0rd-2026!' };
/** Far above any header or field limit: what a hostile or broken client might send. */
const HUGE = 100_000;
/** Long, but inside Node's 16 KiB limit on an HTTP request head, so it reaches our code. */
const LONG = 8_000;
/** An error body must stay small whatever the request quoted. */
const MAX_ERROR_BODY = 4096;

const errorCodeOf = (error: ServiceError | undefined) => error?.metadata.get('error-code')[0];

/** A unary call with a deadline: a call whose connection the server refuses ends, not hangs. */
function unaryWithin(client: ReturnType<typeof publicGrpcClient>, method: string, request: unknown, metadata: Metadata) {
  return new Promise<ServiceError | undefined>((resolve) => {
    const fn = client.raw[method] as (r: unknown, m: Metadata, o: object, cb: (e: ServiceError | null) => void) => void;
    fn.call(client.raw, request, metadata, { deadline: Date.now() + 10_000 }, (error) => resolve(error ?? undefined));
  });
}

describe('one caller cannot hurt another: cold start and hostile input (real cluster)', () => {
  const env = TestCluster.perFile({}, { admin: ADMIN });
  let user: TestUser;

  beforeAll(async () => {
    user = await signUp(env.rest, env.smtp, 'iso');
  });

  async function listFiles(token: string): Promise<number> {
    const res = await fetch(`${env.cluster.httpUrl}/v1/files`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    return res.status;
  }

  it("keeps each user's file ids their own: an id another user holds is free, and nothing of theirs shows", async () => {
    const other = await signUp(env.rest, env.smtp, 'iso_other');
    const fileId = randomUUID();
    const upload = (token: string, body: string) =>
      fetch(`${env.cluster.httpUrl}/v1/files?filename=mine.txt&file_id=${fileId}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}` },
        body,
      }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));

    expect(await upload(user.token, 'the first user’s')).toMatchObject({ status: 201, body: { file_id: fileId } });
    // The same id, chosen by another user over gRPC: an upload like any other.
    const theirs = await grpcUpload(env.grpc, other.token, 'mine.txt', Buffer.from('the other user’s'), { fileId }).done;
    expect(theirs).toMatchObject({ success: true, fileId });
    // Each reads their own bytes under the id; a second use by the same user is that user's file's new version.
    const read = async (token: string) =>
      (
        await fetch(`${env.cluster.httpUrl}/v1/files/${fileId}/content`, { headers: { authorization: `Bearer ${token}` } })
      ).text();
    expect([await read(user.token), await read(other.token)]).toEqual(['the first user’s', 'the other user’s']);
    expect((await grpcDownload(env.grpc, other.token, fileId)).data.toString()).toBe('the other user’s');
    expect(await upload(user.token, 'again')).toMatchObject({ status: 201, body: { file_id: fileId, version: 2 } });
    expect([await read(user.token), await read(other.token)]).toEqual(['again', 'the other user’s']);
    // Deleting one user's file leaves the other's.
    expect((await env.rest.request('DELETE', `/v1/files/${fileId}`, { token: other.token })).status).toBe(200);
    expect(await read(user.token)).toBe('again');
  });

  it('accepts 50 concurrent requests with valid tokens at a just-restarted gateway', async () => {
    const others = await Promise.all(Array.from({ length: 4 }, () => signUp(env.rest, env.smtp, 'cold')));
    const before = env.cluster.pidOf('gateway') as number;
    process.kill(before, 'SIGKILL');
    await waitFor('the gateway restarted', () => env.cluster.pidOf('gateway') !== before, 30_000);
    // Liveness only: it verifies no token, so the key cache is still cold when the burst arrives.
    await waitFor(
      'the new gateway to serve HTTP',
      async () => (await fetch(`${env.cluster.httpUrl}/healthz`)).status === 200,
      30_000,
      50,
    );

    const tokens = [user, env.admin, ...others].map((u) => u.token);
    const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => listFiles(tokens[i % tokens.length])));

    expect(statuses).toEqual(Array(50).fill(200));
  });

  it("answers oversized and hostile values with bounded 4xx errors while another user's listing never fails", async () => {
    // Its own connection: a hostile client that breaks its connection breaks only its own.
    const address = `127.0.0.1:${env.cluster.ports.grpc}`;
    const ownConnection = { 'grpc.use_local_subchannel_pool': 1 };
    const hostile = new GrpcServiceClient(CLOUD_STORAGE_SERVICE, address, credentials.createInsecure(), 30_000, ownConnection);
    const hostileAdmin = new GrpcServiceClient(ADMIN_SERVICE, address, credentials.createInsecure(), 30_000, ownConnection);
    const victim: number[] = [];
    let attacking = true;
    const victimLoop = (async () => {
      while (attacking || victim.length < 20) victim.push(await listFiles(user.token));
    })();

    try {
      const http = async (path: string, init: RequestInit = {}) => {
        const res = await fetch(`${env.cluster.httpUrl}${path}`, init);
        const text = await res.text();
        expect(text.length).toBeLessThan(MAX_ERROR_BODY);
        return { status: res.status, code: text ? (JSON.parse(text) as { code?: string }).code : undefined };
      };
      const asAdmin = { authorization: `Bearer ${env.admin.token}` };
      const asUser = { authorization: `Bearer ${user.token}` };
      const huge = 'n'.repeat(HUGE);

      // gRPC: every value reaches metadata or auth over the gateway's shared channels.
      const drain = await rawUnary(hostileAdmin, 'DrainNode', { authToken: env.admin.token, nodeId: huge });
      expect(errorCodeOf(drain)).toBe('INVALID_ARGUMENT');
      expect(Buffer.byteLength(drain?.details ?? '')).toBeLessThanOrEqual(1024);

      const deleted = await rawUnary(hostile, 'DeleteFile', { authToken: user.token, fileId: huge });
      expect(errorCodeOf(deleted)).toBe('FILE_NOT_FOUND');

      const login = await rawUnary(hostile, 'Login', { username: huge, password: 'x'.repeat(HUGE) });
      expect(errorCodeOf(login)).toBe('INVALID_CREDENTIALS');
      expect(Buffer.byteLength(login?.details ?? '')).toBeLessThanOrEqual(1024);

      const upload = await grpcUpload(hostile, user.token, huge, Buffer.from('bytes')).done.then(
        () => undefined,
        (error: ServiceError) => error,
      );
      expect(errorCodeOf(upload)).toBe('INVALID_FILENAME');
      expect(Buffer.byteLength(upload?.details ?? '')).toBeLessThanOrEqual(1024);

      // A header no server takes: this client's own call fails, nobody else's.
      const headers = bearer(user.token);
      headers.set('x-junk', 'h'.repeat(HUGE));
      expect(await unaryWithin(hostile, 'ListFiles', {}, headers)).toBeDefined();

      // REST: values long enough to be quoted, short enough to get past Node's header limit.
      const long = 'n'.repeat(LONG);
      expect(await http(`/v1/admin/nodes/${long}/drain`, { method: 'POST', headers: asAdmin })).toEqual({
        status: 400,
        code: 'INVALID_ARGUMENT',
      });
      expect(await http(`/v1/files/${long}`, { headers: asUser })).toEqual({ status: 404, code: 'FILE_NOT_FOUND' });
      expect(
        await http(`/v1/files?filename=${'f'.repeat(4000)}`, { method: 'PUT', headers: asUser, body: Buffer.from('bytes') }),
      ).toEqual({ status: 400, code: 'INVALID_FILENAME' });
      expect(
        await http('/v1/auth/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'u'.repeat(60_000), password: 'x' }),
        }),
      ).toEqual({ status: 400, code: 'INVALID_ARGUMENT' });
      // Past the limits Node itself refuses the request head, before any of our code runs.
      expect((await http(`/v1/admin/nodes/${huge}/drain`, { method: 'POST', headers: asAdmin })).status).toBe(431);
      expect((await http('/v1/files', { headers: { ...asUser, 'x-junk': huge } })).status).toBe(431);
    } finally {
      attacking = false;
      await victimLoop;
      hostile.close();
      hostileAdmin.close();
    }

    expect(victim.length).toBeGreaterThanOrEqual(20);
    expect(victim.filter((status) => status !== 200)).toEqual([]);
    // And the shared channels still serve once the noise is over.
    expect(await listFiles(user.token)).toBe(200);
    expect(await rawUnary(env.grpc, 'ListFiles', {}, bearer(user.token))).toBeUndefined();
  });
});
