import { randomInt } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  DomainError,
  InvalidCredentialsError,
  InvalidOtpError,
  OtpExpiredError,
  SessionNotFoundError,
} from '@cloudstore/contracts';
import { AuditTrail, type Origin } from '../audit/audit-trail.service';
import { BruteForceProtection } from '../rate-limits/brute-force-protection.service';
import { type TokenPair, TokenIssuer } from '../tokens/token-issuer.service';
import { TotpService } from '../totp/totp.service';
import { PasswordHasher } from '../users/password-hasher';
import { isOversizedPassword } from '../users/password-policy';
import { UsersRepository, type UserWithSecrets } from '../users/users.repository';
import { LoginSessionsStore, MAX_OTP_ATTEMPTS, type OtpMethod } from './login-sessions.store';
import { OtpMailer } from './otp-mailer';

export interface LoginChallenge {
  readonly sessionId: string;
  readonly otpMethod: OtpMethod;
  readonly otpExpiresAt: number;
}

function invalidCredentials(): DomainError {
  return new InvalidCredentialsError('Wrong username, email or password');
}

/**
 * Two-step login. Step 1 checks the password (the same error and time for an unknown user and
 * a wrong password) and opens a short session: it mails a fresh 6-digit code, or, with an
 * authenticator app enrolled, waits for its code. Step 2 checks that code once.
 */
@Injectable()
export class LoginService {
  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly protection: BruteForceProtection,
    private readonly sessions: LoginSessionsStore,
    private readonly mailer: OtpMailer,
    private readonly totp: TotpService,
    private readonly tokens: TokenIssuer,
    private readonly audit: AuditTrail,
  ) {}

  async start(usernameOrEmail: string, password: string, origin: Origin): Promise<LoginChallenge> {
    if (!usernameOrEmail || !password || usernameOrEmail.length > 254 || isOversizedPassword(password))
      throw invalidCredentials();
    // Per address up front (refunded when right); per account only failures count, so right
    // passwords arriving together are never refused for each other.
    await this.protection.chargeAddress(origin.clientAddress);
    const user = await this.users.findForLogin(usernameOrEmail);
    const accountKey = user?.id ?? `unknown:${usernameOrEmail.trim().toLowerCase()}`;
    try {
      await this.protection.assertPasswordAttemptAllowed(accountKey, origin.clientAddress);
    } catch (error) {
      await this.audit.record({
        operation: 'auth.lockout',
        status: 'failure',
        errorCode: 'ACCOUNT_LOCKED',
        ...(user ? { userId: user.id, username: user.username } : {}),
        origin,
      });
      throw error;
    }
    const passwordOk = await this.hasher.verify(user?.passwordHash, password);
    if (!user || !passwordOk || !user.active) {
      await this.protection.recordPasswordFailure(accountKey, origin.clientAddress);
      await this.audit.record({
        operation: 'auth.login',
        status: 'failure',
        errorCode: 'INVALID_CREDENTIALS',
        ...(user
          ? { userId: user.id, username: user.username }
          : { details: { attempted: this.audit.attemptedName(usernameOrEmail) } }),
        origin,
      });
      throw invalidCredentials();
    }
    await this.protection.refundAddress(origin.clientAddress);
    if (this.hasher.needsRehash(user.passwordHash)) await this.users.setPasswordHash(user.id, await this.hasher.hash(password));

    if (user.totpEnabledAt) {
      const session = await this.sessions.create(user.id, 'totp', undefined);
      await this.audit.success('auth.login_password', user, origin, { otpMethod: 'totp' });
      return { sessionId: session.sessionId, otpMethod: 'totp', otpExpiresAt: session.expiresAt };
    }
    await this.protection.chargeMail(user.id);
    await this.protection.chargeAddress(origin.clientAddress);
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const session = await this.sessions.create(user.id, 'email', code);
    try {
      await this.mailer.send(user.email, user.username, code, session.expiresAt);
    } catch (error) {
      await this.sessions.consume(session);
      throw error;
    }
    await this.audit.success('auth.login_password', user, origin, { otpMethod: 'email' });
    return { sessionId: session.sessionId, otpMethod: 'email', otpExpiresAt: session.expiresAt };
  }

  async verify(sessionId: string, otp: string, origin: Origin): Promise<TokenPair> {
    await this.protection.chargeAddress(origin.clientAddress);
    const session = await this.sessions.claimAttempt(sessionId);
    if (!session) throw new SessionNotFoundError('No such sign-in session: start again with Login');
    const user = await this.users.findByIdWithSecrets(session.userId);
    if (!user?.active) {
      await this.sessions.consume(session);
      throw new SessionNotFoundError('No such sign-in session: start again with Login');
    }
    if (session.expiresAt <= Math.floor(Date.now() / 1000)) {
      await this.sessions.consume(session);
      await this.audit.failure('auth.otp', 'OTP_EXPIRED', user, origin);
      throw new OtpExpiredError('The code has expired: sign in again for a new one');
    }
    const charge = await this.protection.chargeSecondFactorGuess(user.id);
    if (charge !== 'allowed') {
      await this.sessions.consume(session);
      if (charge === 'cap-reached') await this.secondFactorCapReached(user, origin);
      throw new SessionNotFoundError('Too many wrong codes for this account: sign in again later');
    }
    const correct =
      session.method === 'email'
        ? this.sessions.matchesMailedCode(session, otp.trim())
        : await this.totp.verifyForLogin(user, otp);
    if (correct) await this.protection.refundSecondFactorGuess(user.id);
    if (!correct) {
      if (session.attempts >= MAX_OTP_ATTEMPTS) await this.sessions.consume(session);
      await this.audit.failure('auth.otp', 'INVALID_OTP', user, origin, { attempts: session.attempts });
      const left = MAX_OTP_ATTEMPTS - session.attempts;
      throw new InvalidOtpError(left > 0 ? `Wrong code: ${left} attempts left` : 'Wrong code: sign in again for a new one');
    }
    if (!(await this.sessions.consume(session))) {
      throw new SessionNotFoundError('This sign-in session was already used: start again with Login');
    }
    await this.protection.refundAddress(origin.clientAddress);
    await this.protection.recordSignIn(user.id, origin.clientAddress);
    const pair = await this.tokens.issuePair(user, origin);
    await this.audit.success('auth.login', user, origin, { otpMethod: session.method });
    return pair;
  }

  /** Someone who knows the password is guessing codes: the owner is told, once per window. */
  private async secondFactorCapReached(user: UserWithSecrets, origin: Origin): Promise<void> {
    await this.audit.failure('auth.otp_cap', 'SESSION_NOT_FOUND', user, origin);
    await this.mailer.sendSecurityNotice(user.email, user.username, {
      subject: 'Someone is trying to sign in to your cloudstore account',
      lines: [
        'Someone entered your password and then too many wrong sign-in codes.',
        'Sign-in codes for your account are refused for a while.',
        'If this was not you, someone knows your password: change it now.',
      ],
    });
  }
}
