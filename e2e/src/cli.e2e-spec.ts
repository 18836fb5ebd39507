import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_PASSWORD } from './support/accounts';
import { TestCluster } from './support/test-cluster';

const BIN = join(__dirname, '..', '..', 'apps', 'cli', 'bin', 'cloudstore.js');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('the cloudstore CLI, the built binary against the real cluster', () => {
  const env = TestCluster.perFile({});
  let home: string;

  /** Starts `cloudstore ARGS` with its own config folder, pointed at the cluster by the environment. */
  const start = (args: string[]): { child: ChildProcessWithoutNullStreams; done: Promise<Finished> } => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        PATH: process.env['PATH'] ?? '',
        XDG_CONFIG_HOME: home,
        CLOUDSTORE_SERVER: `127.0.0.1:${env.cluster.ports.grpc}`,
        CLOUDSTORE_REST_URL: env.cluster.httpUrl,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const done = new Promise<Finished>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
    return { child, done };
  };
  const run = (args: string[], input?: string) => {
    const { child, done } = start(args);
    child.stdin.end(input ?? '');
    return done;
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'cli-e2e-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('registers, signs in with the mailed code, puts with progress, lists, gets, removes, restores and shows the quota', async () => {
    const username = `cli_${randomBytes(4).toString('hex')}`;
    const email = `${username}@example.com`;
    const registered = await run(['register', username, '--email', email, '--password-stdin'], `${TEST_PASSWORD}\n`);
    expect(registered).toMatchObject({ code: 0 });
    expect(registered.stdout).toContain(`Registered ${username}`);

    // The password, then the code from the mail, as lines on standard input.
    const before = env.smtp.mailsTo(email).length;
    const login = start(['login', username, '--password-stdin']);
    login.child.stdin.write(`${TEST_PASSWORD}\n`);
    login.child.stdin.end(`${await env.smtp.codeFor(email, before)}\n`);
    const signedIn = await login.done;
    expect(signedIn).toMatchObject({ code: 0 });
    expect(signedIn.stdout).toContain(`Signed in as ${username}`);
    const credentials = join(home, 'cloudstore', 'credentials.json');
    expect((await stat(credentials)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(credentials, 'utf8'))).toMatchObject({
      username,
      tokens: { accessToken: expect.any(String) },
    });
    expect((await run(['whoami'])).stdout).toContain(`${username} (basic)`);

    const data = randomBytes(9 * 1024 * 1024 + 17);
    const source = join(home, 'report.pdf');
    await writeFile(source, data);
    const put = await run(['put', source]);
    expect(put).toMatchObject({ code: 0 });
    // Not a terminal: plain progress lines on standard error, the last at the whole size.
    expect(put.stderr).toMatch(/put report\.pdf: 9\.0 MiB of 9\.0 MiB \(100%\), .+\/s/);
    const fileId = /→ ([0-9a-f-]{36})/.exec(put.stdout)?.[1] as string;
    expect(put.stdout).toContain(`sha256 ${sha256(data)}`);

    const listed = await run(['ls']);
    expect(listed.stdout).toMatch(new RegExp(`${fileId}\\s+report\\.pdf\\s+9\\.0 MiB`));
    const asJson = JSON.parse((await run(['ls', '--json'])).stdout) as { files: { fileId: string; fileSize: number }[] };
    expect(asJson.files).toEqual([expect.objectContaining({ fileId, fileSize: data.length })]);

    const target = join(home, 'copy.pdf');
    const got = await run(['get', fileId, '-o', target]);
    expect(got).toMatchObject({ code: 0 });
    expect(got.stdout).toContain('verified');
    expect(sha256(await readFile(target))).toBe(sha256(data));

    expect((await run(['rm', fileId])).stdout).toContain(`${fileId} moved to the trash (9.0 MiB freed)`);
    expect((await run(['ls'])).stdout).toContain('No files');
    expect((await run(['trash'])).stdout).toContain('report.pdf');
    expect((await run(['restore', fileId])).stdout).toContain('report.pdf');
    expect((await run(['ls'])).stdout).toContain(fileId);
    const quota = await run(['quota']);
    expect(quota.stdout).toMatch(/^\[#*\.+\] 9\.0 MiB of 100 GiB used/);

    // A failure: its code named on one line, and a non-zero exit.
    const missing = await run(['get', '00000000-0000-4000-8000-000000000000', '-o', join(home, 'x')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^cloudstore: FILE_NOT_FOUND: /);
    expect((await run(['rm'])).code).toBe(2);

    expect((await run(['logout'])).stdout).toContain('Signed out');
    await expect(stat(credentials)).rejects.toThrow();
    const after = await run(['ls']);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('not signed in');
  });

  it('refuses a wrong sign-in code with its code and keeps no session', async () => {
    const username = `clibad_${randomBytes(4).toString('hex')}`;
    const email = `${username}@example.com`;
    await run(['register', username, '--email', email, '--password-stdin'], `${TEST_PASSWORD}\n`);
    const before = env.smtp.mailsTo(email).length;
    const login = start(['--json', 'login', username, '--password-stdin']);
    login.child.stdin.write(`${TEST_PASSWORD}\n`);
    await env.smtp.codeFor(email, before);
    login.child.stdin.end('000000\n');
    const refused = await login.done;
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^cloudstore: INVALID_OTP: /);
    const wrongPassword = await run(['login', username, '--password-stdin'], 'Not-The-Password-1!\n');
    expect(wrongPassword.stderr.trim()).toMatch(/^cloudstore: INVALID_CREDENTIALS: /);
    expect((await run(['whoami'])).code).toBe(1);
  });
});
