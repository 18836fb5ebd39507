import { signUp } from './support/accounts';
import { restUpload } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const ADMIN = { username: 'hardening_admin', email: 'hardening-admin@example.com', password: 'Admin-Passw0rd-2026!' };

describe('HTTP hardening of the gateway: security headers, readiness details', () => {
  const env = TestCluster.perFile({}, { admin: ADMIN });

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
});
