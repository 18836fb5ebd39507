import { type AuditEvent } from '@cloudstore/jobs';
import { newOrigin, newUserInput } from '@cloudstore/testing';
import { LoginService } from '../login/login.service';
import { PasswordHasher } from '../users/password-hasher';
import { UsersRepository } from '../users/users.repository';
import { AuditTrail } from './audit-trail.service';
import { type AuthTestApplication, startAuthTestApplication } from '../auth-test-application.test-helper';

/** What the audit log keeps of failed sign-ins, through the real login and audit queue. */
describe(AuditTrail.name, () => {
  let test: AuthTestApplication;
  let login: LoginService;

  beforeAll(async () => {
    test = await startAuthTestApplication();
    login = test.app.get(LoginService);
  });

  afterAll(async () => {
    await test.close();
  });

  async function failedLogin(usernameOrEmail: string): Promise<AuditEvent> {
    const origin = newOrigin();
    await expect(login.start(usernameOrEmail, 'Wrong-Password-42!', origin)).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
    const jobs = await test.auditQueue.getJobs(['waiting', 'delayed', 'completed', 'failed', 'active']);
    const event = jobs.map((j) => j.data).find((e) => e.operation === 'auth.login' && e.clientAddress === origin.clientAddress);
    if (!event) throw new Error('no audit event');
    return event;
  }

  it('keeps an attempted username that matches no account only as a keyed hash, never as typed', async () => {
    const typed = `Nobody-${Date.now()}`;
    const event = await failedLogin(typed);
    expect(event).not.toHaveProperty('userId');
    expect(event).not.toHaveProperty('username');
    expect(event.details?.['attempted']).toMatch(/^hmac-sha256:[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(event).toLowerCase()).not.toContain(typed.toLowerCase());
    // The same name (in any case) hashes alike, so attempts can be counted; another name does not.
    expect((await failedLogin(` ${typed.toUpperCase()} `)).details?.['attempted']).toBe(event.details?.['attempted']);
    expect((await failedLogin(`${typed}x`)).details?.['attempted']).not.toBe(event.details?.['attempted']);
  });

  it('names an existing account by its id, with no attempted name', async () => {
    const { username, email } = newUserInput();
    const passwordHash = await test.app.get(PasswordHasher).hash('Correct-Horse-42!');
    const user = await test.app
      .get(UsersRepository)
      .insert({ username, usernameKey: username, email, emailKey: email, passwordHash, role: 'basic' });
    const event = await failedLogin(username);
    expect(event).toMatchObject({ userId: user.id, username });
    expect(event.details).toBeUndefined();
  });
});
