import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { TEST_PASSWORD } from './support/accounts';
import { TestCluster } from './support/test-cluster';

/** Debian's Chromium (`.ci/run` installs it when missing). */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** Where the screenshots are kept, as the run's artifacts. */
const ARTIFACTS = join(__dirname, '..', '..', 'dist', 'screenshots');
const ADMIN = { username: 'web_admin', email: 'web_admin@example.com', password: 'Admin-Passw0rd-2026!' };

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('the web app in headless Chromium, against the real cluster', () => {
  const env = TestCluster.perFile({ CHUNK_SIZE_BYTES: String(1024 * 1024) }, { admin: ADMIN });
  let browser: Browser;
  let dir: string;
  const violations: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'web-e2e-'));
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const newPage = async (): Promise<Page> => {
    const page = await (await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 800 } })).newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    return page;
  };

  const signIn = async (page: Page, who: { username: string; email: string; password: string }) => {
    await page.goto(`${env.cluster.httpUrl}/#/signin`);
    await page.getByLabel('Username or email').fill(who.username);
    await page.getByLabel('Password').fill(who.password);
    const before = env.smtp.mailsTo(who.email).length;
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('Code sent to your email').fill(await env.smtp.codeFor(who.email, before));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Files' }).waitFor();
  };

  it('serves the page under a strict CSP, no inline script', async () => {
    const res = await fetch(`${env.cluster.httpUrl}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(await res.text()).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    // The API keeps its own CSP.
    expect((await fetch(`${env.cluster.httpUrl}/v1/quota`)).headers.get('content-security-policy')).toContain(
      "default-src 'none'",
    );
  });

  it('signs up, signs in with the mailed code, uploads with progress, downloads, deletes and restores', async () => {
    const page = await newPage();
    const username = `web_${randomBytes(4).toString('hex')}`;
    const email = `${username}@example.com`;
    await page.goto(`${env.cluster.httpUrl}/#/signup`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByText(`Account ${username} created`).waitFor();
    await signIn(page, { username, email, password: TEST_PASSWORD });

    const data = randomBytes(12 * 1024 * 1024 + 5);
    const source = join(dir, 'holiday.mov');
    await writeFile(source, data);
    await page.getByLabel('Upload files').setInputFiles(source);
    const progress = page.locator('.transfers progress').first();
    await progress.waitFor();
    expect(await progress.getAttribute('max')).toBe(String(data.length));
    await page.locator('.transfers .done').waitFor({ timeout: 60_000 });
    expect(await progress.getAttribute('value')).toBe(String(data.length));
    const row = page.getByRole('row', { name: /holiday\.mov/ });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('12 MiB');
    await page.screenshot({ path: join(ARTIFACTS, 'files.png') });

    const downloading = page.waitForEvent('download');
    await row.getByRole('button', { name: 'Download' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('holiday.mov');
    const saved = join(dir, 'downloaded.mov');
    await download.saveAs(saved);
    expect(sha256(await readFile(saved))).toBe(sha256(data));

    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('holiday.mov moved to the trash').waitFor();
    await page.getByRole('cell', { name: 'No files yet' }).waitFor();
    await page.getByRole('link', { name: 'Trash' }).click();
    const trashed = page.getByRole('row', { name: /holiday\.mov/ });
    await trashed.getByRole('button', { name: 'Restore' }).click();
    await page.getByText('holiday.mov restored').waitFor();
    await page.getByRole('link', { name: 'Files' }).click();
    await page.getByRole('row', { name: /holiday\.mov/ }).waitFor();
    expect(violations).toEqual([]);
  });

  it('shows the admin the cluster page: its nodes, up', async () => {
    const page = await newPage();
    await signIn(page, ADMIN);
    await page.getByRole('link', { name: 'Cluster' }).click();
    await page.getByRole('heading', { name: 'Cluster' }).waitFor();
    const nodes = page.locator('tbody tr');
    await nodes.first().waitFor();
    expect(await nodes.count()).toBe(3);
    expect(await page.locator('.state.up').count()).toBe(3);
    await expect(page.locator('.summary').textContent()).resolves.toContain('Under-replicated chunks');
    await page.screenshot({ path: join(ARTIFACTS, 'cluster.png') });
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('cell', { name: ADMIN.username, exact: true }).waitFor();
    expect(violations).toEqual([]);
  });
});
