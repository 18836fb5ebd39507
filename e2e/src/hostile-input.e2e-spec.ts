import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { type ClientReadableStream, Metadata, type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@cloudstore/access-tokens';
import { ERROR_CODE_METADATA_KEY, type publicApi } from '@cloudstore/contracts';
import type { GrpcServiceClient } from '@cloudstore/grpc';
import { waitFor } from '@cloudstore/testing';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { adminGrpcClient, rawUnary } from './support/api-clients';
import { signUp, type TestUser } from './support/accounts';
import { grpcUpload, restUpload } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

/**
 * Hostile input, generated: bad values (U+0000, lone surrogates, bidi and control characters,
 * huge strings, deep JSON, wrong types, negative, huge and non-finite numbers, bad UUIDs, bad
 * tokens) for every field of every REST route and public RPC, admin ones included. Every answer
 * must be a success or a 4xx / non-INTERNAL status carrying a code of CONTRACT.md §3 that belongs
 * to that status; no service may restart, and a refused upload leaves nothing behind.
 */

/** CONTRACT.md §3: the codes each HTTP status may carry (NOT_FOUND: admin objects and unknown routes, README). */
const REST_CODES: Record<number, readonly string[]> = {
  400: ['INVALID_USERNAME', 'INVALID_EMAIL', 'WEAK_PASSWORD', 'INVALID_FILENAME', 'INVALID_ARGUMENT'],
  401: [
    'INVALID_CREDENTIALS',
    'INVALID_OTP',
    'OTP_EXPIRED',
    'SESSION_NOT_FOUND',
    'TOKEN_INVALID',
    'TOKEN_EXPIRED',
    'TOKEN_REVOKED',
  ],
  403: ['PERMISSION_DENIED'],
  404: ['FILE_NOT_FOUND', 'NOT_FOUND'],
  409: ['USERNAME_TAKEN', 'EMAIL_TAKEN'],
  413: ['QUOTA_EXCEEDED', 'FILE_TOO_LARGE'],
  429: ['RATE_LIMITED', 'ACCOUNT_LOCKED'],
};

/** The same table by gRPC status; INTERNAL, UNKNOWN and DATA_LOSS never answer bad input. */
const GRPC_CODES: Partial<Record<GrpcStatus, readonly string[]>> = {
  [GrpcStatus.INVALID_ARGUMENT]: REST_CODES[400],
  [GrpcStatus.ALREADY_EXISTS]: REST_CODES[409],
  [GrpcStatus.UNAUTHENTICATED]: REST_CODES[401],
  [GrpcStatus.PERMISSION_DENIED]: REST_CODES[403],
  [GrpcStatus.NOT_FOUND]: REST_CODES[404],
  [GrpcStatus.RESOURCE_EXHAUSTED]: [...(REST_CODES[429] ?? []), ...(REST_CODES[413] ?? [])],
};

const ADMIN = { username: 'hostile_admin', email: 'hostile-admin@example.com', password: 'Admin-Passw0rd-2026!' };

/** The access-token signing key of this suite's cluster (TOKEN_SIGNING_KEY), to sign tokens that only the issuer could. */
const signing = generateKeyPairSync('ed25519');
const SIGNING_KEY_PEM = signing.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const KEY_ID = createHash('sha256')
  .update(signing.publicKey.export({ type: 'spki', format: 'pem' }).toString())
  .digest('base64url')
  .slice(0, 16);

// ---------------------------------------------------------------- generators

const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    'admin\u0000',
    '\ud800',
    'x\udc00y',
    `${'a'.repeat(63)}\u{1f600}`.slice(0, 64),
    'report\u202etxt.exe',
    'two\nlines',
    '\r\n',
    '../../etc/passwd',
    '%',
    '%_%',
    '\\',
    "' OR '1'='1",
    '"; DROP TABLE files; --',
    '${jndi:ldap://x}',
    '__proto__',
    'constructor',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    '12345678-1234-1234-1234-1234567890abc',
    'node-99',
    'NaN',
    '-1',
    '1e309',
  ),
  fc
    .tuple(fc.constantFrom('a', '\u0000', '\ud83d', 'é', '%'), fc.integer({ min: 256, max: 20_000 }))
    .map(([c, n]) => c.repeat(n)),
  fc.uuid().map((u) => `${u}\u0000`),
);

const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.constantFrom(-2, -1, 0, 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER, 1e300, -1e300, 0.5),
  fc.double(),
);

/** A JSON value of any type, as a hostile body field holds it (non-finite numbers become null in JSON). */
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileString, { maxKeys: 3 }) },
);

/** A raw query value: text percent-encoded as UTF-8 bytes, or invalid escapes and bytes. */
const hostileQueryValue: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .oneof(hostileString, hostileNumber.map(String))
      .map(percentEncode)
      .filter((v) => v.length < MAX_URL_VALUE),
  },
  { weight: 1, arbitrary: fc.constantFrom('%', '%ZZ', '%FF%FE', '%C0%80', '%00', '%ED%A0%80', 'a&limit=1', '1&limit=2') },
);

/**
 * Query, path and header values stay well inside Node's 16 KiB request head, so they reach our
 * code (Node answers a bigger head itself with a bare 431, as the README says).
 */
const MAX_URL_VALUE = 4_000;

function percentEncode(value: string): string {
  return [...Buffer.from(value)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

/** JSON nested `depth` deep, as raw text (a body field holding it stays under the 64 KiB limit up to ~30,000). */
function deepJson(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

const int32 = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.constantFrom(-1, 0, 1, 1001, 2 ** 31 - 1, -(2 ** 31)),
);
const int64 = fc.oneof(int32, fc.constantFrom(-2, -1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 40));

// ---------------------------------------------------------------- batches

/** Cases sent at once per run: a busy machine answers concurrent requests much faster than one after another. */
const BATCH = 8;

type Batched = fc.IAsyncPropertyWithHooks<[unknown[][]]>;

/** fc.asyncProperty whose every run is a batch of up to BATCH generated cases, sent together (shrinking still finds the one). */
function batched<A>(a: fc.Arbitrary<A>, predicate: (a: A) => Promise<unknown>): Batched;
function batched<A, B>(a: fc.Arbitrary<A>, b: fc.Arbitrary<B>, predicate: (a: A, b: B) => Promise<unknown>): Batched;
function batched<A, B, C>(
  a: fc.Arbitrary<A>,
  b: fc.Arbitrary<B>,
  c: fc.Arbitrary<C>,
  predicate: (a: A, b: B, c: C) => Promise<unknown>,
): Batched;
function batched(...args: unknown[]): Batched {
  const predicate = args.at(-1) as (...values: unknown[]) => Promise<unknown>;
  const arbitraries = args.slice(0, -1) as fc.Arbitrary<unknown>[];
  return fc.asyncProperty(fc.array(fc.tuple(...arbitraries), { minLength: 1, maxLength: BATCH }), async (batch) => {
    await Promise.all(batch.map((values) => predicate(...values)));
  });
}

// ---------------------------------------------------------------- the answers

interface RestAnswer {
  readonly status: number;
  readonly code?: string;
  readonly text: string;
}

function expectContractRest(answer: RestAnswer, what: string): void {
  if (answer.status < 400) return;
  const allowed = REST_CODES[answer.status];
  expect({ what, status: answer.status, code: answer.code, allowed: allowed?.includes(answer.code ?? '') ?? false }).toEqual({
    what,
    status: answer.status,
    code: answer.code,
    allowed: true,
  });
}

function expectContractGrpc(error: ServiceError | undefined, what: string): void {
  if (!error) return;
  const code = error.metadata?.get(ERROR_CODE_METADATA_KEY)[0];
  const allowed = GRPC_CODES[error.code];
  expect({ what, status: error.code, code, details: error.details, allowed: allowed?.includes(String(code)) ?? false }).toEqual({
    what,
    status: error.code,
    code,
    details: error.details,
    allowed: true,
  });
}

describe('hostile input: generated bad values for every REST route and public RPC', () => {
  const env = TestCluster.perFile(
    {
      TRUSTED_PROXIES: '127.0.0.1/32',
      // Rate limits and lockouts are tested elsewhere; here they would only hide what lies behind them.
      IP_MAX_ATTEMPTS: '1000000',
      LOGIN_MAX_ATTEMPTS: '1000',
      TOKEN_SIGNING_KEY: SIGNING_KEY_PEM,
      LOG_LEVEL: 'warn',
    },
    { admin: ADMIN },
  );
  let user: TestUser;
  let uploader: TestUser;
  let victim: TestUser;
  let other: TestUser;
  let fileId: string;
  let admin: GrpcServiceClient<publicApi.AdminServiceClient>;
  let pidsAtStart: number[];
  let cases = 0;

  beforeAll(async () => {
    // victim is the target of generated admin changes (it may lose its role or be deactivated).
    [user, uploader, victim, other] = await Promise.all([
      signUp(env.rest, env.smtp, 'hostile'),
      signUp(env.rest, env.smtp, 'uploader'),
      signUp(env.rest, env.smtp, 'victim'),
      signUp(env.rest, env.smtp, 'other'),
    ]);
    fileId = await restUpload(env.cluster.httpUrl, user.token, 'kept.txt', Buffer.from('kept'));
    admin = adminGrpcClient(`127.0.0.1:${env.cluster.ports.grpc}`);
    pidsAtStart = env.cluster.allReportedPids();
  });

  afterAll(() => {
    admin?.close();
    process.stdout.write(`hostile-input: ${cases} cases\n`);
    // Checked after every test, whatever their order: none of it restarted a service.
    const pidsNow = env.cluster.allReportedPids();
    if (pidsAtStart && pidsNow.join() !== pidsAtStart.join()) {
      throw new Error(`a service restarted: pids ${pidsAtStart.join()} became ${pidsNow.join()}`);
    }
  });

  /** One REST request from its own client address (so no address limit builds up); a value fetch cannot send is skipped. */
  async function rest(
    method: string,
    path: string,
    options: { token?: string; body?: string; headers?: Record<string, string> } = {},
  ): Promise<RestAnswer | undefined> {
    const headers: Record<string, string> = {
      'x-forwarded-for': `10.${cases % 250}.${(cases >> 8) % 250}.${(cases >> 16) % 250}`,
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    };
    cases += 1;
    let res: Response;
    try {
      res = await fetch(`${env.cluster.httpUrl}${path}`, {
        method,
        headers,
        ...(options.body !== undefined ? { body: options.body } : {}),
      });
    } catch (error) {
      // fetch refuses header values it cannot send (control characters, non-Latin-1, a malformed Content-Type).
      // (Checked by name: the test runs in its own realm, where Node's TypeError is another class.)
      const refused = error as Error & { cause?: Error };
      if (refused.name === 'TypeError' && /header|ByteString/i.test(`${refused.message} ${refused.cause?.message ?? ''}`))
        return undefined;
      throw error;
    }
    const text = await res.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { code?: string }).code;
    } catch {
      code = undefined;
    }
    return { status: res.status, code, text };
  }

  async function restCase(method: string, path: string, options: Parameters<typeof rest>[2] = {}): Promise<void> {
    const answer = await rest(method, path, options);
    if (answer) expectContractRest(answer, `${method} ${path.slice(0, 200)}`);
  }

  function grpcCase(client: GrpcServiceClient<unknown>, method: string, request: Record<string, unknown>): Promise<void> {
    cases += 1;
    return rawUnary(client, method, request).then((error) =>
      expectContractGrpc(error, `${method} ${JSON.stringify(request).slice(0, 200)}`),
    );
  }

  /** Runs of a property; each run is a batch of up to BATCH cases. */
  const runs = (numRuns: number) => ({ numRuns, endOnFailure: true });

  describe('REST', () => {
    /** A JSON body of the given fields, one or more of them hostile, or deep nesting, or not JSON at all. */
    function hostileBody(fields: readonly string[]): fc.Arbitrary<string> {
      const valid: fc.Arbitrary<string> = fc
        .record(Object.fromEntries(fields.map((f) => [f, hostileJson])) as Record<string, fc.Arbitrary<unknown>>, {
          requiredKeys: [],
        })
        .map((body) => JSON.stringify(body));
      return fc.oneof(
        { weight: 8, arbitrary: valid },
        {
          weight: 1,
          arbitrary: fc
            .tuple(fc.constantFrom(...fields), fc.integer({ min: 33, max: 20_000 }))
            .map(([field, depth]) => `{"${field}":${deepJson(depth)}}`),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom('', '{', 'null', '[]', '"x"', '1', '{"a":1}{', '\u0000', `{"x":"${'a'.repeat(70_000)}"}`),
        },
      );
    }

    it.each([
      ['/v1/auth/register', ['username', 'email', 'password']],
      ['/v1/auth/login', ['username', 'password']],
      ['/v1/auth/verify-otp', ['session_id', 'otp']],
      ['/v1/auth/refresh', ['refresh_token', 'current_token']],
      ['/v1/auth/password-reset', ['email']],
      ['/v1/auth/password-reset/confirm', ['token', 'new_password']],
    ] as const)('POST %s answers any body with a contract code', async (path, fields) => {
      await expect(
        fc.assert(
          batched(hostileBody(fields), (body) => restCase('POST', path, { body })),
          runs(path.endsWith('register') || path.endsWith('login') ? 8 : 25),
        ),
      ).resolves.toBeUndefined();
    });

    it.each([
      ['POST', '/v1/auth/totp/confirm', ['code']],
      ['POST', '/v1/auth/totp/disable', ['code', 'password']],
      ['POST', '/v1/auth/password', ['current_password', 'new_password']],
    ] as const)('%s %s (signed in) answers any body with a contract code', async (method, path, fields) => {
      await expect(
        fc.assert(
          batched(hostileBody(fields), (body) => restCase(method, path, { token: user.token, body })),
          // A wrong password costs an Argon2id check.
          runs(fields.some((f) => f.includes('password')) ? 8 : 25),
        ),
      ).resolves.toBeUndefined();
    });

    it.each([
      ['shares', ['username', 'permission']],
      ['links', ['expires_in_seconds', 'password']],
    ] as const)('POST /v1/files/:id/%s answers any body with a contract code', async (what, fields) => {
      await expect(
        fc.assert(
          batched(hostileBody(fields), (body) => restCase('POST', `/v1/files/${fileId}/${what}`, { token: user.token, body })),
          runs(20),
        ),
      ).resolves.toBeUndefined();
    });

    it('PATCH /v1/admin/users/:id answers any body and any id with a contract code', async () => {
      await expect(
        fc.assert(
          batched(
            hostileBody(['role', 'active', 'quota_bytes']),
            fc.oneof(
              { weight: 3, arbitrary: fc.constant('victim') },
              { weight: 1, arbitrary: hostileString.filter((s) => percentEncode(s).length < MAX_URL_VALUE) },
            ),
            (body, id) =>
              restCase('PATCH', `/v1/admin/users/${id === 'victim' ? victim.userId : percentEncode(id)}`, {
                token: env.admin.token,
                body,
              }),
          ),
          runs(30),
        ),
      ).resolves.toBeUndefined();
    });

    it.each([
      ['/v1/files', 'user'],
      ['/v1/trash', 'user'],
      ['/v1/shared-with-me', 'user'],
      ['/v1/admin/users', 'admin'],
    ] as const)('GET %s answers any limit, offset and filter with a contract code', async (path, who) => {
      const query = fc.record(
        { limit: hostileQueryValue, offset: hostileQueryValue, filter: hostileQueryValue, other: hostileQueryValue },
        { requiredKeys: [] },
      );
      await expect(
        fc.assert(
          batched(query, async (q) => {
            const search = Object.entries(q)
              .map(([k, v]) => `${k}=${v}`)
              .join('&');
            await restCase('GET', `${path}?${search}`, { token: who === 'admin' ? env.admin.token : user.token });
          }),
          runs(30),
        ),
      ).resolves.toBeUndefined();
    });

    it.each([
      ['GET', '/v1/files/:id'],
      ['GET', '/v1/files/:id/content'],
      ['DELETE', '/v1/files/:id'],
      ['POST', '/v1/trash/:id/restore'],
      ['DELETE', '/v1/trash/:id'],
      ['GET', '/v1/files/:id/shares'],
      ['POST', '/v1/files/:id/shares'],
      ['DELETE', '/v1/files/:id/shares/someone'],
      ['DELETE', '/v1/files/kept/shares/:id'],
      ['GET', '/v1/files/:id/links'],
      ['POST', '/v1/files/:id/links'],
      ['DELETE', '/v1/files/kept/links/:id'],
      ['GET', '/v1/links/:id'],
      ['GET', '/v1/files/:id/versions'],
      ['GET', '/v1/files/kept/versions/:id/content'],
      ['POST', '/v1/files/kept/versions/:id/restore'],
      ['POST', '/v1/admin/nodes/:id/drain'],
      ['DELETE', '/v1/auth/sessions/:id'],
    ] as const)('%s %s answers any id with a contract code', async (method, path) => {
      const id = fc.oneof(
        hostileString
          .filter((s) => !/^node-\d+$/.test(s))
          .map(percentEncode)
          .filter((v) => v.length < MAX_URL_VALUE),
        fc.constantFrom('%', '%ZZ', '%00', '%ED%A0%80', '..', '.'),
      );
      const token = path.includes('admin') ? env.admin.token : user.token;
      // `..` after the kept file's id would make the URL DELETE /v1/files/<id> itself.
      const withIds = (raw: string) =>
        path.includes('kept') && raw.startsWith('.') ? path : path.replace(':id', raw).replace('kept', fileId);
      await expect(
        fc.assert(
          batched(id, (raw) => restCase(method, withIds(raw), { token, ...(method === 'POST' ? { body: '{}' } : {}) })),
          runs(15),
        ),
      ).resolves.toBeUndefined();
    });

    it('every route answers any Authorization header and bad token with 401 and a token code', async () => {
      const routes = [
        ['GET', '/v1/auth/me'],
        ['POST', '/v1/auth/logout'],
        ['POST', '/v1/auth/totp/enroll'],
        ['GET', '/v1/auth/sessions'],
        ['POST', '/v1/auth/logout-all'],
        ['POST', '/v1/auth/password'],
        ['GET', '/v1/files'],
        ['PUT', '/v1/files?filename=a.txt'],
        ['GET', `/v1/files/${randomUUID()}`],
        ['GET', '/v1/quota'],
        ['GET', '/v1/trash'],
        ['GET', '/v1/shared-with-me'],
        ['POST', `/v1/files/${randomUUID()}/shares`],
        ['POST', `/v1/files/${randomUUID()}/links`],
        ['GET', `/v1/files/${randomUUID()}/links`],
        ['GET', `/v1/files/${randomUUID()}/versions`],
        ['GET', '/v1/me/export'],
        ['DELETE', '/v1/me'],
        ['GET', '/v1/admin/users'],
        ['GET', '/v1/admin/cluster'],
      ] as const;
      const header = fc.oneof(
        hostileToken().map(async (t) => `Bearer ${(await t).slice(0, MAX_URL_VALUE)}`),
        hostileString.filter((h) => h.length < MAX_URL_VALUE).map((h) => Promise.resolve(h)),
        fc
          .constantFrom('Bearer', 'Bearer ', 'Basic YTpi', 'bearer  x', `Bearer ${'a'.repeat(10_000)}`)
          .map((s) => Promise.resolve(s)),
      );
      await expect(
        fc.assert(
          batched(fc.constantFrom(...routes), header, async ([method, path], pending) => {
            const answer = await rest(method, path, { headers: { authorization: await pending } });
            if (!answer) return;
            expectContractRest(answer, `${method} ${path}`);
            expect([answer.status, REST_CODES[401]?.includes(answer.code ?? '')]).toEqual([401, true]);
          }),
          runs(60),
        ),
      ).resolves.toBeUndefined();
    });
  });

  /** Tokens a client could send: garbage, unsigned, another algorithm, and tokens signed by the real key with hostile claims. */
  function hostileToken(): fc.Arbitrary<Promise<string>> {
    const now = Math.floor(Date.now() / 1000);
    // Every one of these is wrong: a subject that is no UUID, a lifetime past the cap, an expiry past, an iat ahead.
    const signed = fc
      .record({
        sub: fc.oneof(
          hostileString.filter((s) => s.length > 0 && s.length < 200),
          fc.constant(randomUUID()),
        ),
        exp: fc.constantFrom(Math.floor(Date.UTC(9999, 0, 1) / 1000), now + 10 * 86_400, now - 10),
        iat: fc.constantFrom(now, now + 7200),
      })
      .map((c) =>
        new SignJWT({ role: 'user', username: 'mallory', fid: randomUUID(), iatms: c.iat * 1000 })
          .setProtectedHeader({ alg: 'EdDSA', kid: KEY_ID, typ: 'JWT' })
          .setIssuer(ACCESS_TOKEN_ISSUER)
          .setAudience(ACCESS_TOKEN_AUDIENCE)
          .setSubject(c.sub)
          .setJti(randomUUID())
          .setIssuedAt(c.iat)
          .setExpirationTime(c.exp)
          .sign(signing.privateKey),
      );
    const forged = fc.constantFrom('none', 'HS256', 'RS256', 'EdDSA').map((alg) => {
      const header = Buffer.from(JSON.stringify({ alg, kid: KEY_ID, typ: 'JWT' })).toString('base64url');
      const payload = Buffer.from(
        JSON.stringify({ sub: randomUUID(), iss: ACCESS_TOKEN_ISSUER, aud: ACCESS_TOKEN_AUDIENCE, exp: now + 600, iat: now }),
      ).toString('base64url');
      return Promise.resolve(`${header}.${payload}.${alg === 'none' ? '' : 'c2lnbmF0dXJl'}`);
    });
    return fc.oneof(
      signed,
      forged,
      hostileString.map((s) => Promise.resolve(s)),
    );
  }

  describe('tokens', () => {
    async function signedToken(claims: { sub?: string; iat?: number; exp?: number }): Promise<string> {
      const iat = claims.iat ?? Math.floor(Date.now() / 1000);
      return new SignJWT({ role: 'user', username: user.username, fid: randomUUID(), iatms: iat * 1000 })
        .setProtectedHeader({ alg: 'EdDSA', kid: KEY_ID, typ: 'JWT' })
        .setIssuer(ACCESS_TOKEN_ISSUER)
        .setAudience(ACCESS_TOKEN_AUDIENCE)
        .setSubject(claims.sub ?? user.userId)
        .setJti(randomUUID())
        .setIssuedAt(iat)
        .setExpirationTime(claims.exp ?? iat + 300)
        .sign(signing.privateKey);
    }

    it('a validly signed token whose subject is not a UUID is TOKEN_INVALID on upload, TOTP enrolment and refresh, REST and gRPC', async () => {
      const token = await signedToken({ sub: 'not-a-uuid' });
      const answers = await Promise.all([
        rest('PUT', '/v1/files?filename=a.txt', { token, body: 'data' }),
        rest('POST', '/v1/auth/totp/enroll', { token }),
        rest('POST', '/v1/auth/refresh', { body: JSON.stringify({ current_token: token }) }),
      ]);
      expect(answers.map((a) => [a?.status, a?.code])).toEqual(Array(3).fill([401, 'TOKEN_INVALID']));
      const upload = await grpcUpload(env.grpc, token, 'a.txt', Buffer.from('data')).done.catch((e: ServiceError) => e);
      const grpcAnswers = [
        upload as ServiceError,
        await rawUnary(env.grpc, 'enrollTotp', { authToken: token }),
        await rawUnary(env.grpc, 'refreshToken', { currentToken: token }),
      ];
      expect(grpcAnswers.map((e) => [e?.code, e?.metadata.get(ERROR_CODE_METADATA_KEY)[0]])).toEqual(
        Array(3).fill([GrpcStatus.UNAUTHENTICATED, 'TOKEN_INVALID']),
      );
    });

    it('a validly signed token expiring in the year 9999 is TOKEN_INVALID, while one of the configured lifetime works', async () => {
      const forever = await signedToken({ exp: Math.floor(Date.UTC(9999, 11, 31) / 1000) });
      expect(await rest('GET', '/v1/quota', { token: forever })).toMatchObject({ status: 401, code: 'TOKEN_INVALID' });
      expect(await rest('GET', '/v1/quota', { token: await signedToken({}) })).toMatchObject({ status: 200 });
    });

    it('generated tokens on every authenticated RPC answer UNAUTHENTICATED with a token code', async () => {
      const rpcs: [GrpcServiceClient<unknown>, string, Record<string, unknown>][] = [
        [env.grpc, 'listFiles', {}],
        [env.grpc, 'deleteFile', { fileId }],
        [env.grpc, 'getQuotaStatus', {}],
        [env.grpc, 'logout', {}],
        [env.grpc, 'enrollTotp', {}],
        [env.grpc, 'confirmTotp', { code: '123456' }],
        [env.grpc, 'disableTotp', { code: '123456' }],
        [env.grpc, 'listTrash', {}],
        [env.grpc, 'restoreFile', { fileId }],
        [env.grpc, 'purgeFile', { fileId }],
        [env.grpc, 'shareFile', { fileId, username: 'someone' }],
        [env.grpc, 'unshareFile', { fileId, username: 'someone' }],
        [env.grpc, 'listFileShares', { fileId }],
        [env.grpc, 'listSharedWithMe', {}],
        [env.grpc, 'listFileVersions', { fileId }],
        [env.grpc, 'createUpload', { filename: 'a.txt', size: 1 }],
        [env.grpc, 'getUploadStatus', { uploadId: randomUUID() }],
        [env.grpc, 'restoreFileVersion', { fileId, versionId: '1' }],
        [admin, 'listUsers', {}],
        [admin, 'updateUser', { userId: victim.userId, quotaBytes: 1 }],
        [admin, 'getClusterStatus', {}],
        [admin, 'drainNode', { nodeId: 'node-0' }],
      ];
      const tokens = fc.oneof(
        fc.constantFrom('not-a-uuid', 'admin', "' OR 1=1", '\u0000').map((sub) => signedToken({ sub })),
        fc.constant(signedToken({ exp: Math.floor(Date.UTC(9999, 0, 1) / 1000) })),
        fc.constant(signedToken({ iat: Math.floor(Date.now() / 1000) + 7200 })),
        hostileToken(),
      );
      await expect(
        fc.assert(
          batched(fc.constantFrom(...rpcs), tokens, fc.boolean(), async ([client, method, request], pending, inMetadata) => {
            const token = await pending;
            cases += 1;
            const metadata = new Metadata();
            if (inMetadata) metadata.set('authorization', `Bearer ${token.replace(/[^\x20-\x7e]/g, '')}`);
            const error = await rawUnary(client, method, inMetadata ? request : { ...request, authToken: token }, metadata);
            expectContractGrpc(error, `${method} with a bad token`);
            // An empty token after stripping is no token: still TOKEN_INVALID.
            expect(error?.code).toBe(GrpcStatus.UNAUTHENTICATED);
          }),
          runs(50),
        ),
      ).resolves.toBeUndefined();
    });
  });

  describe('gRPC', () => {
    type Field = fc.Arbitrary<unknown>;
    const rpcs: [string, () => GrpcServiceClient<unknown>, 'user' | 'admin' | 'none', Record<string, Field>][] = [
      ['register', () => env.grpc, 'none', { username: hostileString, email: hostileString, password: hostileString }],
      ['login', () => env.grpc, 'none', { username: hostileString, password: hostileString }],
      ['verifyOtp', () => env.grpc, 'none', { sessionId: hostileString, otp: hostileString }],
      ['refreshToken', () => env.grpc, 'none', { currentToken: hostileString, refreshToken: hostileString }],
      ['listFiles', () => env.grpc, 'user', { limit: int32, offset: int32, filter: hostileString }],
      ['deleteFile', () => env.grpc, 'user', { fileId: hostileString }],
      ['confirmTotp', () => env.grpc, 'user', { code: hostileString }],
      ['disableTotp', () => env.grpc, 'user', { code: hostileString }],
      ['listTrash', () => env.grpc, 'user', { limit: int32, offset: int32 }],
      ['restoreFile', () => env.grpc, 'user', { fileId: hostileString }],
      ['purgeFile', () => env.grpc, 'user', { fileId: hostileString }],
      ['listUsers', () => admin, 'admin', { limit: int32, offset: int32, filter: hostileString }],
      [
        'updateUser',
        () => admin,
        'admin',
        {
          userId: fc.oneof(fc.constant('victim'), hostileString),
          role: fc.option(hostileString, { nil: undefined }),
          active: fc.option(fc.boolean(), { nil: undefined }),
          quotaBytes: fc.option(int64, { nil: undefined }),
        },
      ],
      ['drainNode', () => admin, 'admin', { nodeId: hostileString.filter((s) => !/^node-\d$/.test(s)) }],
      ['changePassword', () => env.grpc, 'user', { currentPassword: hostileString, newPassword: hostileString }],
      ['requestPasswordReset', () => env.grpc, 'none', { email: hostileString }],
      ['confirmPasswordReset', () => env.grpc, 'none', { token: hostileString, newPassword: hostileString }],
      ['revokeSession', () => env.grpc, 'user', { sessionId: hostileString }],
      [
        'shareFile',
        () => env.grpc,
        'user',
        { fileId: fc.oneof(fc.constant('kept'), hostileString), username: hostileString, permission: hostileString },
      ],
      ['unshareFile', () => env.grpc, 'user', { fileId: fc.oneof(fc.constant('kept'), hostileString), username: hostileString }],
      ['listFileShares', () => env.grpc, 'user', { fileId: hostileString }],
      ['listSharedWithMe', () => env.grpc, 'user', { limit: int32, offset: int32 }],
      ['listFileVersions', () => env.grpc, 'user', { fileId: fc.oneof(fc.constant('kept'), hostileString) }],
      [
        'createUpload',
        () => env.grpc,
        'user',
        { filename: hostileString, size: int64, sha256: hostileString, fileId: hostileString },
      ],
      ['getUploadStatus', () => env.grpc, 'user', { uploadId: hostileString }],
      [
        'restoreFileVersion',
        () => env.grpc,
        'user',
        { fileId: fc.oneof(fc.constant('kept'), hostileString), versionId: hostileString },
      ],
    ];

    it.each(rpcs.map((r) => [r[0], r] as const))(
      '%s answers any field values with a non-INTERNAL status and a contract code',
      async (_name, rpc) => {
        const [method, client, who, fields] = rpc;
        await expect(
          fc.assert(
            batched(fc.record(fields, { requiredKeys: [] }), async (request) => {
              const withIds = {
                ...request,
                ...(request['userId'] === 'victim' ? { userId: victim.userId } : {}),
                ...(request['fileId'] === 'kept' ? { fileId } : {}),
              };
              const token = who === 'admin' ? env.admin.token : who === 'user' ? user.token : undefined;
              await grpcCase(client(), method, token ? { ...withIds, authToken: token } : withIds);
            }),
            runs(['register', 'login', 'changePassword'].includes(method) ? 4 : 20),
          ),
        ).resolves.toBeUndefined();
      },
    );

    it('DownloadFile answers any file id and version id with a non-INTERNAL status and a contract code', async () => {
      await expect(
        fc.assert(
          batched(hostileString, fc.option(hostileString, { nil: undefined }), async (id, versionId) => {
            cases += 1;
            const call = (env.grpc.raw['downloadFile'] as (req: unknown, md: Metadata) => ClientReadableStream<unknown>).call(
              env.grpc.raw,
              {
                authToken: user.token,
                fileId: versionId === undefined ? id : fileId,
                ...(versionId === undefined ? {} : { versionId }),
              },
              new Metadata(),
            );
            const error = await new Promise<ServiceError | undefined>((resolve) => {
              call.on('data', () => undefined);
              call.on('error', (e: ServiceError) => resolve(e));
              call.on('end', () => resolve(undefined));
            });
            expectContractGrpc(error, `downloadFile ${JSON.stringify(id).slice(0, 100)}`);
          }),
          runs(15),
        ),
      ).resolves.toBeUndefined();
    });

    it('an oversized message is refused fast, before it is read, and an oversized field passed on is INVALID_ARGUMENT', async () => {
      const started = Date.now();
      const huge = await grpcUpload(env.grpc, uploader.token, 'huge.bin', Buffer.alloc(8 * 1024 * 1024, 1), {
        pieceSize: 8 * 1024 * 1024,
      }).done.catch((e: ServiceError) => e);
      expect((huge as ServiceError).code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
      expect(Date.now() - started).toBeLessThan(5_000);
      // Under the public limit, over auth's: auth refuses it, and the gateway says so with a contract code.
      const login = await rawUnary(env.grpc, 'login', { username: 'u'.repeat(1024 * 1024), password: 'x' });
      expect([login?.code, login?.metadata.get(ERROR_CODE_METADATA_KEY)[0]]).toEqual([
        GrpcStatus.INVALID_ARGUMENT,
        'INVALID_ARGUMENT',
      ]);
    });
  });

  describe('item 9 regressions', () => {
    it('U+0000 in a login username, REST and gRPC, is INVALID_CREDENTIALS, not INTERNAL', async () => {
      const answer = await rest('POST', '/v1/auth/login', { body: JSON.stringify({ username: 'ad\u0000min', password: 'x' }) });
      expect([answer?.status, answer?.code]).toEqual([401, 'INVALID_CREDENTIALS']);
      const error = await rawUnary(env.grpc, 'login', { username: `${user.username}\u0000`, password: 'x' });
      expect([error?.code, error?.metadata.get(ERROR_CODE_METADATA_KEY)[0]]).toEqual([
        GrpcStatus.UNAUTHENTICATED,
        'INVALID_CREDENTIALS',
      ]);
    });

    it('U+0000 in a list filter (REST and gRPC) and in the admin users filter matches nothing', async () => {
      const files = await rest('GET', `/v1/files?filter=${percentEncode('kept\u0000')}`, { token: user.token });
      expect([files?.status, JSON.parse(files?.text ?? '{}')]).toEqual([200, { files: [], total_count: 0 }]);
      const listed = await env.grpc.call('listFiles', { authToken: user.token, limit: 10, offset: 0, filter: 'kept\u0000' });
      expect(listed.totalCount).toBe(0);
      const users = await rest('GET', `/v1/admin/users?filter=${percentEncode('\u0000')}`, { token: env.admin.token });
      expect([users?.status, JSON.parse(users?.text ?? '{}')]).toEqual([200, { users: [], total_count: 0 }]);
      const grpcUsers = await admin.call('listUsers', { authToken: env.admin.token, limit: 10, offset: 0, filter: 'a\u0000' });
      expect(grpcUsers.totalCount).toBe(0);
    });

    it('JSON nested ~9,000 deep under the 64 KiB limit is INVALID_ARGUMENT on every JSON route', async () => {
      const body = `{"username":${deepJson(9000)}}`;
      expect(body.length).toBeLessThan(64 * 1024);
      for (const path of ['/v1/auth/register', '/v1/auth/login', '/v1/auth/verify-otp', '/v1/auth/refresh']) {
        expect(await rest('POST', path, { body })).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT' });
      }
      expect(await rest('PATCH', `/v1/admin/users/${victim.userId}`, { token: env.admin.token, body })).toMatchObject({
        status: 400,
        code: 'INVALID_ARGUMENT',
      });
    });

    it('audit events with U+0000 in a username and a failed-login name cut inside an emoji are written', async () => {
      // Found by the address they came from: how the names themselves are stored is the audit log's business.
      const from = { 'x-forwarded-for': '192.0.2.77' };
      const nul = `nul_${randomUUID().slice(0, 8)}\u0000`;
      const emoji = `${'e'.repeat(63)}\u{1f600}${randomUUID()}`;
      const body = (username: string) => JSON.stringify({ username, email: 'x@example.com', password: 'Wrong-Passw0rd!' });
      await rest('POST', '/v1/auth/register', { body: body(nul), headers: from });
      await rest('POST', '/v1/auth/login', { body: body(emoji), headers: from });
      const written = await waitFor(
        'both refused attempts in the audit log',
        async () => {
          const { rows } = await env.pg.query<{ operation: string }>(
            `SELECT operation FROM metadata.audit_log WHERE client_address = '192.0.2.77' AND status = 'failure' ORDER BY operation`,
          );
          return rows.length === 2 ? rows.map((r) => r.operation) : false;
        },
        30_000,
      );
      expect(written).toEqual(['auth.login', 'auth.register']);
    });

    it('an invalid upload Content-Type is stored and served as application/octet-stream', async () => {
      const res = await fetch(`${env.cluster.httpUrl}/v1/files?filename=typed.bin`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${uploader.token}`, 'content-type': 'not a media type' },
        body: Buffer.from('typed'),
      });
      expect(res.status).toBe(201);
      const id = ((await res.json()) as { file_id: string }).file_id;
      const content = await fetch(`${env.cluster.httpUrl}/v1/files/${id}/content`, {
        headers: { authorization: `Bearer ${uploader.token}` },
      });
      expect([content.status, content.headers.get('content-type')]).toEqual([200, 'application/octet-stream']);
      await content.arrayBuffer();
      await env.rest.request('DELETE', `/v1/files/${id}`, { token: uploader.token });
      await env.rest.request('DELETE', `/v1/trash/${id}`, { token: uploader.token });
    });

    it('gRPC UpdateUser refuses a quota of -2 like REST, changing nothing', async () => {
      const before = await env.rest.get<{ role: string }>(`/v1/admin/users?filter=${victim.username}`, env.admin.token);
      const error = await rawUnary(admin, 'updateUser', {
        authToken: env.admin.token,
        userId: victim.userId,
        role: 'premium',
        quotaBytes: -2,
      });
      expect([error?.code, error?.metadata.get(ERROR_CODE_METADATA_KEY)[0]]).toEqual([
        GrpcStatus.INVALID_ARGUMENT,
        'INVALID_ARGUMENT',
      ]);
      const rest2 = await rest('PATCH', `/v1/admin/users/${victim.userId}`, {
        token: env.admin.token,
        body: JSON.stringify({ quota_bytes: -2 }),
      });
      expect([rest2?.status, rest2?.code]).toEqual([400, 'INVALID_ARGUMENT']);
      const after = await env.rest.get<{ role: string }>(`/v1/admin/users?filter=${victim.username}`, env.admin.token);
      expect(after.body).toEqual(before.body);
    });

    it('a file_id another user holds is free for the caller: nothing says it exists (ids are per user)', async () => {
      const own = await restUpload(env.cluster.httpUrl, other.token, 'own.txt', Buffer.from('own'));
      const put = (token: string, id: string) =>
        fetch(`${env.cluster.httpUrl}/v1/files?filename=x.txt&file_id=${id}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}` },
          body: Buffer.from('x'),
        }).then(async (r) => {
          const body = (await r.json()) as { code?: string; detail?: string; file_id?: string };
          return [r.status, body.code ?? body.file_id, body.detail];
        });
      // Their own file's id: its new version.
      expect(await put(other.token, own)).toEqual([201, own, undefined]);
      expect(await put(other.token, fileId)).toEqual([201, fileId, undefined]);
      const victims = await fetch(`${env.cluster.httpUrl}/v1/files/${fileId}`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      expect(((await victims.json()) as { file_size: number }).file_size).toBe(4);
    });
  });

  describe('uploads', () => {
    it('refused uploads (REST and gRPC) with generated names, ids, types and sizes leave nothing behind', async () => {
      // An id the uploader already uses: each upload that succeeds with it is that file's new version.
      const taken = await restUpload(env.cluster.httpUrl, uploader.token, 'taken.txt', Buffer.from('taken'));
      const before = await footprint(uploader.userId);
      // Name, id and type together stay inside the 16 KiB request head.
      const inUrl = hostileString.filter((v) => percentEncode(v).length < MAX_URL_VALUE);
      const field = fc.record({
        filename: fc.oneof(inUrl, fc.constant('ok.txt')),
        fileId: fc.oneof(fc.constant(''), inUrl, fc.constant(taken)),
        contentType: fc.oneof(inUrl, fc.constantFrom('text/plain', 'a/b/c', 'false')),
        declared: fc.oneof(fc.constant(undefined), fc.constantFrom('-1', '0', '1', '99999999999999999999', 'abc', '1e3', ' 5')),
        bytes: fc.integer({ min: 0, max: 64 }),
        grpc: fc.boolean(),
      });
      let committed = 0;
      const chosen = new Set<string>();
      await expect(
        fc.assert(
          batched(field, async (c) => {
            cases += 1;
            const data = Buffer.alloc(c.bytes, 7);
            let ok: boolean;
            if (c.grpc) {
              const metadata = new Metadata();
              if (c.declared !== undefined) metadata.set('x-file-size', c.declared);
              const result = await grpcUpload(env.grpc, uploader.token, c.filename, data, {
                fileId: c.fileId,
                metadata,
              }).done.catch((e: ServiceError) => e);
              ok = !(result instanceof Error);
              if (!ok) expectContractGrpc(result as ServiceError, `uploadFile ${JSON.stringify(c).slice(0, 200)}`);
            } else {
              const answer = await rest(
                'PUT',
                `/v1/files?filename=${percentEncode(c.filename)}&file_id=${percentEncode(c.fileId)}`,
                {
                  token: uploader.token,
                  body: data.toString(),
                  headers: { 'content-type': c.contentType, ...(c.declared !== undefined ? { 'x-file-size': c.declared } : {}) },
                },
              );
              if (!answer) return;
              ok = answer.status < 300;
              expectContractRest(answer, `PUT /v1/files ${JSON.stringify(c).slice(0, 200)}`);
            }
            // A chosen id used again (fast-check repeats values) makes that file's new version, not a file.
            if (ok && c.fileId === '') committed += 1;
            else if (ok && c.fileId !== taken) chosen.add(c.fileId);
          }),
          runs(30),
        ),
      ).resolves.toBeUndefined();
      const after = await waitFor(
        'refused uploads to be cleaned up',
        async () => {
          const now = await footprint(uploader.userId);
          return now.openUploads === 0 && now.reserved === 0 && now.orphanChunks === 0 ? now : false;
        },
        30_000,
      );
      expect(after.files - before.files).toBe(committed + chosen.size);
    });
  });

  /** What a user holds: files, open uploads, reserved bytes, and chunk rows of uploads that never became a file. */
  async function footprint(userId: string) {
    const { rows } = await env.pg.query<{ files: string; open: string; reserved: string | null; orphans: string }>(
      `SELECT (SELECT count(*) FROM metadata.files WHERE owner_id = $1 AND version_of IS NULL) AS files,
              (SELECT count(*) FROM metadata.uploads WHERE owner_id = $1 AND status = 'open') AS open,
              (SELECT reserved_bytes FROM metadata.user_quotas WHERE user_id = $1) AS reserved,
              (SELECT count(*) FROM metadata.chunks c JOIN metadata.uploads u ON u.id = c.upload_id
                WHERE u.owner_id = $1 AND u.status = 'aborted') AS orphans`,
      [userId],
    );
    const row = rows[0];
    return {
      files: Number(row?.files),
      openUploads: Number(row?.open),
      reserved: Number(row?.reserved ?? 0),
      orphanChunks: Number(row?.orphans),
    };
  }
});
