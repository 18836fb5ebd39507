import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Caller } from '@cloudstore/access-tokens';
import type { AuthConfig } from '@cloudstore/config';
import { TokenExpiredError, TokenInvalidError } from '@cloudstore/contracts';
import { LOGGER, type Logger } from '@cloudstore/observability';
import type { DataSource } from 'typeorm';
import { AuditTrail, type Origin } from '../audit/audit-trail.service';
import { AUTH_CONFIG } from '../auth.tokens';
import { OtpMailer } from '../login/otp-mailer';
import { BruteForceProtection } from '../rate-limits/brute-force-protection.service';
import { TokenIssuer } from '../tokens/token-issuer.service';
import { PasswordHasher } from '../users/password-hasher';
import { assertPasswordAllowed } from '../users/password-policy';
import { normalizeEmail } from '../users/user-input';
import { UsersRepository, type UserWithSecrets } from '../users/users.repository';
import { PasswordResetsRepository } from './password-resets.repository';
import { Reauthentication } from './reauthentication.service';

/** How long a mailed reset link works. */
export const PASSWORD_RESET_TTL_SECONDS = 15 * 60;

function hashResetToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function emailLocalPart(email: string): string {
  return email.slice(0, email.lastIndexOf('@'));
}

/**
 * Changing a password with the current one (other sign-ins end), and resetting a forgotten one
 * by a mailed single-use link (every sign-in ends).
 */
@Injectable()
export class PasswordsService implements OnApplicationShutdown {
  /** Reset mails being sent: the request is answered before, so that its time says nothing. */
  private readonly sending = new Set<Promise<void>>();

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly users: UsersRepository,
    private readonly resets: PasswordResetsRepository,
    private readonly hasher: PasswordHasher,
    private readonly reauthentication: Reauthentication,
    private readonly protection: BruteForceProtection,
    private readonly tokens: TokenIssuer,
    private readonly mailer: OtpMailer,
    private readonly audit: AuditTrail,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The caller's sign-in stays; every other one ends. */
  async change(caller: Caller, currentPassword: string, newPassword: string, origin: Origin): Promise<void> {
    const user = await this.reauthentication.confirm(caller.userId, currentPassword, origin, 'auth.password_change');
    assertPasswordAllowed(this.config.PASSWORD_POLICY, newPassword, {
      username: user.username,
      emailLocalPart: emailLocalPart(user.email),
    });
    await this.users.setPasswordHash(user.id, await this.hasher.hash(newPassword));
    const ended = await this.tokens.revokeOtherSignIns(user.id, caller.familyId);
    await this.audit.success('auth.password_change', user, origin, { sessionsEnded: ended });
    await this.mailer.sendSecurityNotice(user.email, user.username, {
      subject: 'Your cloudstore password was changed',
      lines: [
        'The password of your account was changed, and your other devices were signed out.',
        'If this was not you, reset your password now.',
      ],
    });
  }

  /**
   * Answers alike whether or not the address has an account: the link is made and mailed after
   * the answer. Per client address IP_MAX_ATTEMPTS requests per window (RATE_LIMITED); per account
   * OTP_MAILS_PER_ACCOUNT mails, beyond which requests send nothing.
   */
  async requestReset(email: string, origin: Origin): Promise<void> {
    const { key } = normalizeEmail(email);
    await this.protection.chargeAddress(origin.clientAddress);
    const user = await this.users.findByEmailKeyWithSecrets(key);
    if (!user?.active) return;
    const sending = this.mailResetLink(user, origin)
      .catch((error: unknown) => this.logger.error({ err: error, userId: user.id }, 'could not mail a password-reset link'))
      .finally(() => this.sending.delete(sending));
    this.sending.add(sending);
  }

  /** Sets the new password (the policy applies, and a refused one leaves the link usable); every sign-in ends. */
  async confirmReset(token: string, newPassword: string, origin: Origin): Promise<void> {
    await this.protection.chargeAddress(origin.clientAddress);
    const reset = /^[A-Za-z0-9_-]{43}$/.test(token) ? await this.resets.findByTokenHash(hashResetToken(token)) : null;
    if (!reset || reset.usedAt) throw new TokenInvalidError('The reset link is not valid, or was used already');
    if (reset.expiresAt.getTime() <= Date.now()) throw new TokenExpiredError('The reset link has expired: ask for a new one');
    const user = await this.users.findByIdWithSecrets(reset.userId);
    if (!user?.active) throw new TokenInvalidError('The reset link is not valid, or was used already');
    assertPasswordAllowed(this.config.PASSWORD_POLICY, newPassword, {
      username: user.username,
      emailLocalPart: emailLocalPart(user.email),
    });
    const passwordHash = await this.hasher.hash(newPassword);
    const spent = await this.dataSource.transaction(async (manager) => {
      if (!(await this.resets.spend(manager, reset))) return false;
      await this.users.setPasswordHash(user.id, passwordHash, manager);
      return true;
    });
    if (!spent) throw new TokenInvalidError('The reset link is not valid, or was used already');
    await this.protection.refundAddress(origin.clientAddress);
    const ended = await this.tokens.revokeAllOfUser(user.id);
    await this.audit.success('auth.password_reset', user, origin, { sessionsEnded: ended });
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.sending]);
  }

  private async mailResetLink(user: UserWithSecrets, origin: Origin): Promise<void> {
    if (!(await this.protection.tryChargeResetMail(user.id))) {
      await this.audit.failure('auth.password_reset_request', 'RATE_LIMITED', user, origin);
      return;
    }
    const token = randomBytes(32).toString('base64url');
    const expiresAt = Math.floor(Date.now() / 1000) + PASSWORD_RESET_TTL_SECONDS;
    await this.resets.insert({ userId: user.id, tokenHash: hashResetToken(token), expiresAt: new Date(expiresAt * 1000) });
    const link = new URL(this.config.PASSWORD_RESET_URL);
    link.searchParams.set('token', token);
    await this.mailer.sendPasswordReset(user.email, user.username, link.toString(), expiresAt);
    await this.audit.success('auth.password_reset_request', user, origin);
  }
}
