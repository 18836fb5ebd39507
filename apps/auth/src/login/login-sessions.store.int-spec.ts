import { createHash, createHmac } from 'node:crypto';
import { newOrigin, newUserInput } from '@cloudstore/testing';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthSecrets } from '../secrets/auth-secrets';
import { PasswordHasher } from '../users/password-hasher';
import { UsersRepository } from '../users/users.repository';
import { LoginService } from './login.service';
import { LoginSessionsStore, sessionHandle } from './login-sessions.store';
import { type AuthTestApplication, startAuthTestApplication } from '../auth-test-application.test-helper';

const PASSWORD = 'Correct-Horse-42!';

/** What someone with read access to Redis sees of a pending login, against the real Redis. */
describe(LoginSessionsStore.name, () => {
  let test: AuthTestApplication;

  beforeAll(async () => {
    test = await startAuthTestApplication();
  });

  afterAll(async () => {
    await test.close();
  });

  /** Every key under the test's prefix (SCAN) with every string its value holds (GET, HGETALL). */
  async function everythingInRedis(): Promise<string[]> {
    const redis = test.stores.redis.client;
    const seen: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${test.stores.redis.keyPrefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        seen.push(key);
        const type = await redis.type(key);
        if (type === 'string') seen.push((await redis.get(key)) ?? '');
        if (type === 'hash') seen.push(...Object.entries(await redis.hgetall(key)).flat());
      }
    } while (cursor !== '0');
    return seen;
  }

  it('keeps nothing in Redis that checks a mailed code offline: the MAC needs the server key', async () => {
    const { username, email } = newUserInput();
    const passwordHash = await test.app.get(PasswordHasher).hash(PASSWORD);
    await test.app
      .get(UsersRepository)
      .insert({ username, usernameKey: username, email, emailKey: email, passwordHash, role: 'basic' });
    const { sessionId } = await test.app.get(LoginService).start(username, PASSWORD, newOrigin());
    const outbox = test.config.OTP_OUTBOX_DIR;
    let code = '';
    for (const file of await readdir(outbox)) {
      const text = await readFile(join(outbox, file), 'utf8');
      if (text.includes(`To: ${email}`)) code = /sign-in code is (\d{6})/.exec(text)?.[1] ?? '';
    }
    expect(code).toMatch(/^\d{6}$/);

    const strings = await everythingInRedis();
    const session = await test.stores.redis.client.hgetall(
      `${test.stores.redis.keyPrefix}:login:session:${sessionHandle(sessionId)}`,
    );
    const storedMac = session['otpHash'];
    expect(storedMac).toMatch(/^[0-9a-f]{64}$/);
    // The session id (what a client presents) is nowhere: names and values hold only its SHA-256.
    expect(strings.filter((s) => s.includes(sessionId))).toEqual([]);
    // Even knowing the right code, no keyed or plain hash built from anything Redis holds (nor
    // from the session id itself) gives the stored MAC, so guesses cannot be tested offline.
    for (const secret of [...strings, sessionId]) {
      for (const message of [code, sessionId + code, secret + code]) {
        expect(createHmac('sha256', secret).update(message).digest('hex')).not.toBe(storedMac);
        expect(createHash('sha256').update(secret).update(message).digest('hex')).not.toBe(storedMac);
      }
    }
    // With the server key (derived from the master key) it is the code's MAC.
    expect(test.app.get(AuthSecrets).otpCodes.digest(sessionId, code).toString('hex')).toBe(storedMac);
  });
});
