import { randomBytes } from 'node:crypto';
import type { RestClient } from './api-clients';
import type { SmtpSink } from './smtp-sink';

export const TEST_PASSWORD = 'Sup3r-Secret-Pass!';

export interface TestUser {
  readonly username: string;
  readonly email: string;
  readonly password: string;
  readonly userId: string;
  readonly token: string;
  readonly refreshToken: string;
}

/** A new account, registered and signed in through the REST API with the mailed code. */
export async function signUp(rest: RestClient, smtp: SmtpSink, prefix = 'user', password = TEST_PASSWORD): Promise<TestUser> {
  const username = `${prefix}_${randomBytes(4).toString('hex')}`;
  const email = `${username}@example.com`;
  const registered = await rest.post('/v1/auth/register', { username, email, password });
  if (registered.status !== 201) throw new Error(`register: ${JSON.stringify(registered.body)}`);
  return signInAs(rest, smtp, { username, email, password, userId: registered.body['user_id'] as string });
}

export async function signInAs(
  rest: RestClient,
  smtp: SmtpSink,
  who: { username: string; email: string; password: string; userId?: string },
): Promise<TestUser> {
  const before = smtp.mailsTo(who.email).length;
  const login = await rest.post('/v1/auth/login', { username: who.username, password: who.password });
  if (login.status !== 200) throw new Error(`login: ${JSON.stringify(login.body)}`);
  const otp = await smtp.codeFor(who.email, before);
  const verified = await rest.post('/v1/auth/verify-otp', { session_id: login.body['session_id'], otp });
  if (verified.status !== 200) throw new Error(`verify-otp: ${JSON.stringify(verified.body)}`);
  const me = await rest.get('/v1/auth/me', verified.body['auth_token'] as string);
  return {
    username: who.username,
    email: who.email,
    password: who.password,
    userId: who.userId ?? (me.body['user_id'] as string),
    token: verified.body['auth_token'] as string,
    refreshToken: verified.body['refresh_token'] as string,
  };
}
