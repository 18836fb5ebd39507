import { randomBytes } from 'node:crypto';
import { waitFor } from '@cloudstore/testing';
import { signUp, type TestUser } from './support/accounts';
import { restUpload, sha256 } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const CHUNK = 1024 * 1024;

interface LinkView {
  link_id: string;
  file_id: string;
  url?: string;
  expires_at: number;
  created_at: number;
  has_password: boolean;
}

interface EventView {
  operation: string;
  file_id?: string;
  details: Record<string, string>;
}

describe('download links: a URL that downloads a file without a token until it expires or is revoked (real cluster)', () => {
  const env = TestCluster.perFile({ CHUNK_SIZE_BYTES: String(CHUNK), TRUSTED_PROXIES: '127.0.0.1/32' });

  async function ownerWithFile(size = 2 * CHUNK + 99): Promise<{ owner: TestUser; fileId: string; data: Buffer }> {
    const owner = await signUp(env.rest, env.smtp, 'linker');
    const data = randomBytes(size);
    return { owner, fileId: await restUpload(env.cluster.httpUrl, owner.token, 'handout.pdf', data), data };
  }

  const makeLink = (owner: TestUser, fileId: string, body: unknown) =>
    env.rest.post<LinkView & { code?: string }>(`/v1/files/${fileId}/links`, body, owner.token);

  /** GET of a link's URL as an anonymous client (from `address`, through the trusted proxy). */
  async function open(url: string, headers: Record<string, string> = {}, address = '198.51.100.7') {
    const res = await fetch(url, { headers: { 'x-forwarded-for': address, ...headers } });
    const body = Buffer.from(await res.arrayBuffer());
    const code = res.headers.get('content-type')?.startsWith('application/problem+json')
      ? (JSON.parse(body.toString()) as { code: string }).code
      : undefined;
    return { status: res.status, body, code, headers: res.headers };
  }

  const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`anyone:${password}`).toString('base64')}` });

  it('downloads byte-identical without a token, ranges too; lists the link without its URL; audits both', async () => {
    const { owner, fileId, data } = await ownerWithFile();
    const made = await makeLink(owner, fileId, { expires_in_seconds: 3600 });
    expect(made.status).toBe(201);
    const { url } = made.body;
    expect(url).toMatch(new RegExp(`^${env.cluster.httpUrl}/v1/links/[A-Za-z0-9_-]{43}$`));
    expect(made.body).toMatchObject({ file_id: fileId, has_password: false });
    expect(made.body.expires_at - Math.floor(Date.now() / 1000)).toBeGreaterThan(3590);

    const whole = await open(url as string);
    expect([whole.status, sha256(whole.body)]).toEqual([200, sha256(data)]);
    expect(whole.headers.get('etag')).toBe(`"${sha256(data)}"`);
    expect(whole.headers.get('content-disposition')).toContain('handout.pdf');
    const part = await open(url as string, { range: `bytes=${CHUNK - 5}-${CHUNK + 4}` });
    expect(part.status).toBe(206);
    expect(part.body).toEqual(data.subarray(CHUNK - 5, CHUNK + 5));

    const listed = await env.rest.get<{ links: LinkView[] }>(`/v1/files/${fileId}/links`, owner.token);
    expect(listed.body.links).toEqual([
      {
        link_id: made.body.link_id,
        file_id: fileId,
        expires_at: made.body.expires_at,
        created_at: made.body.created_at,
        has_password: false,
      },
    ]);

    const events = await env.rest.get<{ events: EventView[] }>('/v1/audit?operation=file.*', owner.token);
    const byLink = events.body.events.filter((e) => e.operation === 'file.download' && e.details['access'] === 'link');
    expect(byLink.length).toBe(2);
    expect(byLink[0]?.details['linkId']).toBe(made.body.link_id);
    expect(events.body.events.find((e) => e.operation === 'file.link_create')?.details).toMatchObject({
      linkId: made.body.link_id,
      hasPassword: 'false',
    });
  });

  it('asks for the password when the link has one (Basic, header or query), and limits wrong guesses per address', async () => {
    const { owner, fileId, data } = await ownerWithFile(1000);
    const made = await makeLink(owner, fileId, { expires_in_seconds: 600, password: 'correct horse' });
    expect([made.status, made.body.has_password]).toEqual([201, true]);
    const url = made.body.url as string;

    const none = await open(url);
    expect([none.status, none.code]).toEqual([401, 'INVALID_CREDENTIALS']);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(sha256((await open(url, basic('correct horse'))).body)).toBe(sha256(data));
    expect(sha256((await open(url, { 'x-link-password': 'correct horse' })).body)).toBe(sha256(data));
    expect(sha256((await open(`${url}?password=correct%20horse`)).body)).toBe(sha256(data));

    const guesser = '203.0.113.9';
    for (let i = 0; i < 10; i += 1) {
      const wrong = await open(url, basic(`guess-${i}`), guesser);
      expect([wrong.status, wrong.code]).toEqual([401, 'INVALID_CREDENTIALS']);
    }
    const limited = await open(url, basic('correct horse'), guesser);
    expect([limited.status, limited.code]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another address is not held back by the guesser.
    expect((await open(url, basic('correct horse'), '198.51.100.200')).status).toBe(200);
  });

  it('stops at once when revoked, when it expires and while the file is in the trash (where it can be revoked too)', async () => {
    const { owner, fileId, data } = await ownerWithFile(5000);
    const revoked = await makeLink(owner, fileId, { expires_in_seconds: 600 });
    const brief = await makeLink(owner, fileId, { expires_in_seconds: 2 });
    const kept = await makeLink(owner, fileId, { expires_in_seconds: 600 });
    expect((await open(revoked.body.url as string)).status).toBe(200);

    const revoke = await env.rest.request('DELETE', `/v1/files/${fileId}/links/${revoked.body.link_id}`, { token: owner.token });
    expect([revoke.status, revoke.body]).toEqual([200, { success: true }]);
    const gone = await open(revoked.body.url as string);
    expect([gone.status, gone.code]).toEqual([404, 'FILE_NOT_FOUND']);
    const again = await env.rest.request('DELETE', `/v1/files/${fileId}/links/${revoked.body.link_id}`, { token: owner.token });
    expect([again.status, again.body['code']]).toEqual([404, 'FILE_NOT_FOUND']);

    await waitFor('the 2-second link to expire', async () => (await open(brief.body.url as string)).status === 404);
    const listed = await env.rest.get<{ links: LinkView[] }>(`/v1/files/${fileId}/links`, owner.token);
    expect(listed.body.links.map((l) => l.link_id)).toEqual([kept.body.link_id]);

    expect((await env.rest.request('DELETE', `/v1/files/${fileId}`, { token: owner.token })).status).toBe(200);
    expect((await open(kept.body.url as string)).status).toBe(404);
    // A link of a file in the trash is listed, and revocable before a restore could bring it back.
    const refused = await makeLink(owner, fileId, { expires_in_seconds: 600 });
    expect([refused.status, refused.body.code]).toEqual([404, 'FILE_NOT_FOUND']);
    const inTrash = await env.rest.get<{ links: LinkView[] }>(`/v1/files/${fileId}/links`, owner.token);
    expect(inTrash.body.links.map((l) => l.link_id)).toEqual([kept.body.link_id]);
    expect((await env.rest.post(`/v1/trash/${fileId}/restore`, {}, owner.token)).status).toBe(200);
    expect(sha256((await open(kept.body.url as string)).body)).toBe(sha256(data));
    expect((await env.rest.request('DELETE', `/v1/files/${fileId}`, { token: owner.token })).status).toBe(200);
    expect((await env.rest.request('DELETE', `/v1/trash/${fileId}`, { token: owner.token })).status).toBe(200);
    const rows = await env.pg.query('SELECT 1 FROM metadata.download_links WHERE id = $1', [kept.body.link_id]);
    expect(rows.rowCount).toBe(0);
  });

  it('is the owner’s alone to make, and refuses bad lifetimes, passwords and secrets with the contract’s codes', async () => {
    const { owner, fileId } = await ownerWithFile(10);
    const grantee = await signUp(env.rest, env.smtp, 'grantee');
    const stranger = await signUp(env.rest, env.smtp, 'stranger');
    expect((await env.rest.post(`/v1/files/${fileId}/shares`, { username: grantee.username }, owner.token)).status).toBe(201);

    const byGrantee = await makeLink(grantee, fileId, { expires_in_seconds: 60 });
    expect([byGrantee.status, byGrantee.body.code]).toEqual([403, 'PERMISSION_DENIED']);
    for (const who of [stranger]) {
      const res = await makeLink(who, fileId, { expires_in_seconds: 60 });
      expect([res.status, res.body.code]).toEqual([404, 'FILE_NOT_FOUND']);
      expect((await env.rest.get(`/v1/files/${fileId}/links`, who.token)).status).toBe(404);
    }
    for (const body of [
      {},
      { expires_in_seconds: 0 },
      { expires_in_seconds: -5 },
      { expires_in_seconds: 1.5 },
      { expires_in_seconds: '60' },
      { expires_in_seconds: 366 * 86400 },
      { expires_in_seconds: 60, password: 7 },
    ]) {
      const res = await makeLink(owner, fileId, body);
      expect([body, res.status, res.body.code]).toEqual([body, 400, 'INVALID_ARGUMENT']);
    }
    expect((await env.rest.get<{ links: unknown[] }>(`/v1/files/${fileId}/links`, owner.token)).body.links).toEqual([]);
    for (const secret of ['x', 'A'.repeat(43), '%00', 'A'.repeat(5000)]) {
      const res = await open(`${env.cluster.httpUrl}/v1/links/${secret}`);
      expect([secret.slice(0, 10), res.status, res.code]).toEqual([secret.slice(0, 10), 404, 'FILE_NOT_FOUND']);
    }
    const anonymous = await env.rest.post(`/v1/files/${fileId}/links`, { expires_in_seconds: 60 });
    expect(anonymous.status).toBe(401);
  });
});
