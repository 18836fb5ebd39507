import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { clusterPkiFiles } from '@cloudstore/grpc';
import { findFreePortRange, waitFor } from '@cloudstore/testing';
import { signUp } from './support/accounts';
import { RestClient } from './support/api-clients';
import { restUpload } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const GATEWAY_CLI = join(__dirname, '../../dist/apps/gateway/src/main.js');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** One more gateway of the cluster, as a second replica would run: its own ports, the same services, master key and certificate. */
async function startSecondGateway(
  env: TestCluster,
): Promise<{ url: string; child: ChildProcess; exited: Promise<number | null> }> {
  const base = await findFreePortRange(2);
  const { cluster } = env;
  const child = spawn(process.execPath, [GATEWAY_CLI], {
    env: {
      ...cluster.env,
      ...clusterPkiFiles(join(cluster.dataDir, 'pki'), 'gateway'),
      GRPC_PORT: String(base),
      HTTP_PORT: String(base + 1),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${base + 1}`;
  await waitFor(
    'the second gateway ready',
    () =>
      fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
    60_000,
    200,
  );
  return { url, child, exited };
}

/**
 * Gateways hold no state of their own (sessions and revocations in Redis, the master key shared):
 * any replica serves any user, and one stopped with SIGTERM finishes the transfers under way.
 */
describe('gateway replicas', () => {
  const env = TestCluster.perFile({});

  it('serves a user signed in through another: sign in on one, upload through the other, download through the first', async () => {
    const second = await startSecondGateway(env);
    try {
      const user = await signUp(env.rest, env.smtp, 'replicas');
      const data = randomBytes(3_000_000);
      const fileId = await restUpload(second.url, user.token, 'across.bin', data);
      const res = await fetch(`${env.cluster.httpUrl}/v1/files/${fileId}/content`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(data));
      // Signing out through the second ends the token on the first too.
      expect((await new RestClient(second.url).post('/v1/auth/logout', {}, user.token)).status).toBe(200);
      expect((await env.rest.get('/v1/files', user.token)).body).toMatchObject({ code: 'TOKEN_REVOKED' });
    } finally {
      second.child.kill('SIGKILL');
      await second.exited;
    }
  });

  it('finishes a 100 MiB download under way when stopped with SIGTERM, then exits cleanly', async () => {
    const second = await startSecondGateway(env);
    const user = await signUp(env.rest, env.smtp, 'sigterm');
    const data = randomBytes(100 * 1024 * 1024);
    const fileId = await restUpload(env.cluster.httpUrl, user.token, 'big.bin', data);
    const res = await fetch(`${second.url}/v1/files/${fileId}/content`, { headers: { authorization: `Bearer ${user.token}` } });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const hash = createHash('sha256');
    let received = 0;
    let stopped = false;
    for (let piece = await reader.read(); !piece.done; piece = await reader.read()) {
      hash.update(piece.value);
      received += piece.value.length;
      if (!stopped && received >= 1024 * 1024) {
        second.child.kill('SIGTERM');
        stopped = true;
      }
    }
    expect(stopped).toBe(true);
    expect(received).toBe(data.length);
    expect(hash.digest('hex')).toBe(sha256(data));
    expect(await second.exited).toBe(0);
  });
});
