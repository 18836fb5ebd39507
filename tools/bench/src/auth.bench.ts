import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { Client } from 'pg';
import { SMTPServer } from 'smtp-server';
import type { BenchCluster } from './bench-cluster';
import { type BenchSize, type LatencySummary, samples, summarize, throughput, timeSequential } from './stats';

export interface AuthBenchReport {
  argon2: { parameters: string; hash: LatencySummary };
  register: LatencySummary & { throughput_per_s: number; concurrency: number };
  login_otp: LatencySummary & { throughput_per_s: number; concurrency: number };
  seed_reference: { register_ms: 45; register_per_s: 22; login_otp_ms: 80; login_otp_per_s: 12.5 };
}

const PASSWORD = 'Bench-Passw0rd-2026!';

/** A local SMTP server that hands sign-in codes to the benchmark as they arrive. */
export async function startCodeCatcher(port: number): Promise<{ next(email: string): Promise<string>; close(): Promise<void> }> {
  const codes = new Map<string, string[]>();
  const waiters = new Map<string, (code: string) => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (part: Buffer) => (raw += part.toString()));
      stream.on('end', () => {
        const to = session.envelope.rcptTo[0]?.address.toLowerCase() ?? '';
        const code = /sign-in code is (\d{6})/.exec(raw)?.[1] ?? '';
        const waiter = waiters.get(to);
        if (waiter) {
          waiters.delete(to);
          waiter(code);
        } else codes.set(to, [...(codes.get(to) ?? []), code]);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    next: (email) =>
      new Promise((resolve) => {
        const queued = codes.get(email.toLowerCase());
        if (queued?.length) resolve(queued.shift() ?? '');
        else waiters.set(email.toLowerCase(), resolve);
      }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * Register and login+OTP through the gateway's REST API (gateway → auth → PostgreSQL/Redis →
 * SMTP), sequentially for latency and with `concurrency` in flight for throughput, next to the
 * bare Argon2id hash with the parameters the service stored.
 */
export async function benchAuth(
  cluster: BenchCluster,
  codes: Awaited<ReturnType<typeof startCodeCatcher>>,
  size: BenchSize,
): Promise<AuthBenchReport> {
  const concurrency = 4;
  const base = cluster.httpUrl;
  const run = randomBytes(3).toString('hex');
  const user = (i: number) => ({ username: `bench_${run}_${i}`, email: `bench_${run}_${i}@example.com`, password: PASSWORD });
  const register = async (i: number) => void (await post(`${base}/v1/auth/register`, user(i)));
  const count = samples(size, 40);

  const registerSamples = await timeSequential(count, (i) => register(i));
  const registerRate = await throughput(count, concurrency, (i) => register(count + i));

  const login = async (i: number) => {
    const { username, email } = user(i);
    const started = await post(`${base}/v1/auth/login`, { username, password: PASSWORD });
    const otp = await codes.next(email);
    await post(`${base}/v1/auth/verify-otp`, { session_id: started['session_id'], otp });
  };
  const loginSamples = await timeSequential(count, (i) => login(i));
  const loginRate = await throughput(count, concurrency, (i) => login(count + i));

  const pg = new Client({ connectionString: cluster.env['DATABASE_URL'] });
  await pg.connect();
  const stored =
    (await pg.query<{ password_hash: string }>('SELECT password_hash FROM auth.users LIMIT 1')).rows[0]?.password_hash ?? '';
  await pg.end();
  // The PHC string carries the parameters the service hashed with: $argon2id$v=19$m=…,t=…,p=…$
  const params = new Map((stored.split('$')[3] ?? '').split(',').map((kv) => kv.split('=') as [string, string]));
  const options = {
    type: argon2.argon2id as 2,
    memoryCost: Number(params.get('m')),
    timeCost: Number(params.get('t')),
    parallelism: Number(params.get('p')),
  };
  const hashSamples = await timeSequential(count, async () => void (await argon2.hash(PASSWORD, options)));

  return {
    argon2: {
      parameters: `argon2id m=${options.memoryCost} KiB, t=${options.timeCost}, p=${options.parallelism}`,
      hash: summarize(hashSamples),
    },
    register: { ...summarize(registerSamples), throughput_per_s: registerRate, concurrency },
    login_otp: { ...summarize(loginSamples), throughput_per_s: loginRate, concurrency },
    seed_reference: { register_ms: 45, register_per_s: 22, login_otp_ms: 80, login_otp_per_s: 12.5 },
  };
}

/** A user signed in through the REST API, for the other benchmarks. */
export async function signUpBenchUser(
  base: string,
  codes: Awaited<ReturnType<typeof startCodeCatcher>>,
): Promise<{ token: string; userId: string }> {
  const username = `bench_${randomBytes(4).toString('hex')}`;
  const email = `${username}@example.com`;
  const registered = await post(`${base}/v1/auth/register`, { username, email, password: PASSWORD });
  const token = await signInBenchUser(base, codes, { username, email, password: PASSWORD });
  return { token, userId: registered['user_id'] as string };
}

/** Password, then the mailed code: an access token. */
export async function signInBenchUser(
  base: string,
  codes: Awaited<ReturnType<typeof startCodeCatcher>>,
  who: { username: string; email: string; password: string },
): Promise<string> {
  const started = await post(`${base}/v1/auth/login`, { username: who.username, password: who.password });
  const verified = await post(`${base}/v1/auth/verify-otp`, {
    session_id: started['session_id'],
    otp: await codes.next(who.email),
  });
  return verified['auth_token'] as string;
}
