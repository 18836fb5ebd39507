import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Metadata } from '@grpc/grpc-js';
import { waitFor } from '@cloudstore/testing';
import { signUp } from './support/accounts';
import { restUpload } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const ADMIN = { username: 'hardening_admin', email: 'hardening-admin@example.com', password: 'Admin-Passw0rd-2026!' };
const PASSWORD = 'Sup3r-Secret-Pass!';

/** A JSON POST sent from `localAddress` (any 127.x address is this machine), as a client behind no proxy. */
function postFrom(
  localAddress: string,
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', localAddress, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('HTTP hardening of the gateway: security headers, readiness details, trusted proxies, limits before work', () => {
  // 127.0.0.1 is the proxy: the tests' own connections come from it.
  const env = TestCluster.perFile({ TRUSTED_PROXIES: '127.0.0.1/32' }, { admin: ADMIN });

  async function registerAddress(userId: string): Promise<string | null> {
    return waitFor(
      'the register event in the audit log',
      async () => {
        const { rows } = await env.pg.query<{ client_address: string | null }>(
          `SELECT client_address FROM metadata.audit_log WHERE user_id = $1::uuid AND operation = 'auth.register'`,
          [userId],
        );
        return rows[0] ?? false;
      },
      20_000,
    ).then((row) => row.client_address);
  }

  function newUser() {
    const username = `hard_${randomBytes(4).toString('hex')}`;
    return { username, email: `${username}@example.com`, password: PASSWORD };
  }

  describe('security headers', () => {
    const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    it('are on every answer: probes, metrics, errors, unknown routes and downloads', async () => {
      const user = await signUp(env.rest, env.smtp, 'hdr');
      const fileId = await restUpload(env.cluster.httpUrl, user.token, 'page.html', Buffer.from('<script>alert(1)</script>'));
      const url = env.cluster.httpUrl;
      const answers = await Promise.all([
        fetch(`${url}/healthz`),
        fetch(`${url}/readyz`),
        fetch(`${url}/metrics`),
        fetch(`${url}/no/such/route`),
        fetch(`${url}/v1/files`),
        fetch(`${url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad' }),
        fetch(`${url}/v1/files/${fileId}/content`, { headers: { authorization: `Bearer ${user.token}` } }),
      ]);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 404, 401, 400, 200]);
      for (const answer of answers) {
        expect([answer.url, answer.headers.get('x-content-type-options')]).toEqual([answer.url, 'nosniff']);
        expect([answer.url, answer.headers.get('x-frame-options')]).toEqual([answer.url, 'DENY']);
        expect([answer.url, answer.headers.get('content-security-policy')]).toEqual([answer.url, API_CSP]);
        expect([answer.url, answer.headers.get('referrer-policy')]).toEqual([answer.url, 'no-referrer']);
        expect(answer.headers.get('strict-transport-security')).toBeNull();
        await answer.arrayBuffer();
      }
    });

    it('let Swagger UI at /docs load its own scripts, and nothing from elsewhere', async () => {
      const page = await fetch(`${env.cluster.httpUrl}/docs`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('swagger-ui-init.js');
      expect(html).not.toMatch(/<script>[^<]/);
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe/);
      for (const path of ['/docs/swagger-ui-init.js', '/docs/openapi.json']) {
        const asset = await fetch(`${env.cluster.httpUrl}${path}`);
        expect([path, asset.status, asset.headers.get('x-content-type-options')]).toEqual([path, 200, 'nosniff']);
        expect(asset.headers.get('content-security-policy')).toBe(csp);
        await asset.arrayBuffer();
      }
    });
  });

  describe('/readyz', () => {
    it('tells the public only ready or not, and an admin the details', async () => {
      const user = await signUp(env.rest, env.smtp, 'ready');
      const anonymous = await env.rest.get('/readyz');
      const member = await env.rest.get('/readyz', user.token);
      const forged = await env.rest.get('/readyz', 'not-a-token');
      for (const answer of [anonymous, member, forged]) {
        expect(answer.status).toBe(200);
        expect(answer.body).toEqual({ status: 'ready' });
      }
      const admin = await env.rest.get<{ status: string; checks: { storage_nodes: { up: number } } }>('/readyz', env.admin.token);
      expect(admin.status).toBe(200);
      expect(admin.body.status).toBe('ready');
      expect(admin.body.checks.storage_nodes.up).toBe(3);
    });
  });

  describe('TRUSTED_PROXIES', () => {
    it('REST: the client is the rightmost hop that is not a trusted proxy', async () => {
      const who = newUser();
      const res = await env.rest.withIp('1.2.3.4, 5.6.7.8').post('/v1/auth/register', who);
      expect(res.status).toBe(201);
      expect(await registerAddress(res.body['user_id'] as string)).toBe('5.6.7.8');
    });

    it('gRPC: x-forwarded-for metadata is read the same way', async () => {
      const who = newUser();
      const metadata = new Metadata();
      metadata.set('x-forwarded-for', '9.9.9.9, 8.8.4.4');
      const registered = await env.grpc.call('register', who, { metadata });
      expect(await registerAddress(registered.userId)).toBe('8.8.4.4');
    });

    it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
      const who = newUser();
      const res = await postFrom('127.0.0.2', `${env.cluster.httpUrl}/v1/auth/register`, who, { 'x-forwarded-for': '5.6.7.8' });
      expect(res.status).toBe(201);
      expect(await registerAddress(res.body['user_id'] as string)).toBe('127.0.0.2');
    });
  });
  describe('limits before work', () => {
    // 4 + 511 × 2 = 1026 bytes in 515 characters: over 1 KiB only when counted in bytes.
    const OVERSIZED = `Aa1!${'é'.repeat(511)}`;

    it('refuses a password over 1 KiB: WEAK_PASSWORD at registration, INVALID_CREDENTIALS at login', async () => {
      const who = newUser();
      const registered = await env.rest.post('/v1/auth/register', { ...who, password: OVERSIZED });
      expect([registered.status, registered.body['code']]).toEqual([400, 'WEAK_PASSWORD']);
      const user = await signUp(env.rest, env.smtp, 'limits');
      const login = await env.rest.post('/v1/auth/login', { username: user.username, password: OVERSIZED });
      expect([login.status, login.body['code']]).toEqual([401, 'INVALID_CREDENTIALS']);
      const grpcRegister = await env.grpc.call('register', { ...newUser(), password: OVERSIZED }).catch((e: unknown) => e);
      expect(grpcRegister).toMatchObject({ code: 'WEAK_PASSWORD' });
    });

    it.each([
      ['a right-to-left override', 'invoice\u202Etxt.exe'],
      ['a right-to-left isolate', 'photo\u2067gpj.exe'],
      ['NUL', 'report\u0000.pdf'],
      ['a newline', 'two\nlines.txt'],
    ])('refuses a filename with %s with INVALID_FILENAME, and audits it', async (_what, filename) => {
      const user = await signUp(env.rest, env.smtp, 'names');
      const res = await fetch(`${env.cluster.httpUrl}/v1/files?filename=${encodeURIComponent(filename)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${user.token}` },
        body: Buffer.from('data'),
      });
      expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([400, 'INVALID_FILENAME']);
      const audited = await waitFor(
        'the refused upload in the audit log',
        async () => {
          const { rows } = await env.pg.query<{ filename: string }>(
            `SELECT filename FROM metadata.audit_log WHERE user_id = $1::uuid AND operation = 'file.upload' AND error_code = 'INVALID_FILENAME'`,
            [user.userId],
          );
          return rows[0] ?? false;
        },
        20_000,
      );
      expect(audited.filename).toContain('\ufffd');
      const listed = await env.rest.get<{ total_count: number }>('/v1/files', user.token);
      expect(listed.body.total_count).toBe(0);
    });
  });
});
