import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import { DomainError, InvalidArgumentError, InvalidOtpError, TokenRevokedError } from '@cloudstore/contracts';
import { generateSecret, generateURI, verify } from 'otplib';
import { AuditTrail, type Origin } from '../audit/audit-trail.service';
import { Reauthentication } from '../passwords/reauthentication.service';
import { BruteForceProtection } from '../rate-limits/brute-force-protection.service';
import { UsersRepository, type UserWithSecrets } from '../users/users.repository';
import { RecoveryCodesRepository } from './recovery-codes.repository';
import { TotpSecrets } from './totp-secrets';

export const TOTP_ISSUER = 'cloudstore';
export const RECOVERY_CODE_COUNT = 10;
/** ±1 time step of 30 s, for clocks that drift a little. */
const TOTP_TOLERANCE_SECONDS = 30;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** 16 base32 characters (80 random bits) shown as XXXX-XXXX-XXXX-XXXX. */
function newRecoveryCode(): string {
  const bytes = randomBytes(16);
  const chars = [...bytes].map((b) => BASE32[b % 32]).join('');
  return chars.match(/.{4}/g)?.join('-') ?? chars;
}

function normalizeRecoveryCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

function invalidCode(): DomainError {
  return new InvalidOtpError('The code is not valid');
}

/**
 * Authenticator-app codes (RFC 6238 TOTP): enrolment with a confirming first code, ten single-use
 * recovery codes stored salted and hashed, the secret sealed under the master key, login checks that accept each code once, and disabling with a
 * current code. Wrong codes of a signed-in user are limited like passwords.
 */
@Injectable()
export class TotpService {
  constructor(
    private readonly users: UsersRepository,
    private readonly recoveryCodes: RecoveryCodesRepository,
    private readonly audit: AuditTrail,
    private readonly protection: BruteForceProtection,
    private readonly secrets: TotpSecrets,
    private readonly reauthentication: Reauthentication,
  ) {}

  /** Needs the password again: a stolen access token cannot bind the account to someone else's app. */
  async enroll(caller: Caller, password: string, origin: Origin): Promise<{ secret: string; otpauthUri: string }> {
    const user = await this.reauthentication.confirm(caller.userId, password, origin, 'auth.totp_enroll');
    if (user.totpEnabledAt) throw new InvalidArgumentError('An authenticator app is already enabled: disable it first');
    const secret = generateSecret();
    await this.users.setPendingTotpSecret(user.id, this.secrets.seal(user.id, secret));
    await this.audit.success('auth.totp_enroll', user, origin);
    return { secret, otpauthUri: generateURI({ issuer: TOTP_ISSUER, label: user.username, secret }) };
  }

  async confirm(caller: Caller, code: string, origin: Origin): Promise<string[]> {
    const user = await this.requireUser(caller.userId);
    if (user.totpEnabledAt) throw new InvalidArgumentError('The authenticator app is already enabled');
    if (!user.totpSecret) throw new InvalidArgumentError('Start with EnrollTotp');
    await this.chargeCodeAttempt(user.id, origin);
    const step = await this.matchingStep(this.secrets.open(user.id, user.totpSecret), code, undefined);
    if (step === undefined) {
      await this.audit.failure('auth.totp_confirm', 'INVALID_OTP', user, origin);
      throw invalidCode();
    }
    await this.refundCodeAttempt(user.id, origin);
    if (!(await this.users.enableTotp(user.id, user.totpSecret, step))) {
      throw new InvalidArgumentError('The enrolment changed meanwhile: start again with EnrollTotp');
    }
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.recoveryCodes.replace(user.id, codes.map(normalizeRecoveryCode));
    await this.audit.success('auth.totp_confirm', user, origin);
    return codes;
  }

  /** Needs the password again and a current code (or a recovery code). */
  async disable(caller: Caller, password: string, code: string, origin: Origin): Promise<void> {
    const user = await this.reauthentication.confirm(caller.userId, password, origin, 'auth.totp_disable');
    if (!user.totpEnabledAt) throw new InvalidArgumentError('No authenticator app is enabled');
    await this.chargeCodeAttempt(user.id, origin);
    if (!(await this.verifyForLogin(user, code))) {
      await this.audit.failure('auth.totp_disable', 'INVALID_OTP', user, origin);
      throw invalidCode();
    }
    await this.refundCodeAttempt(user.id, origin);
    await this.users.disableTotp(user.id);
    await this.recoveryCodes.deleteAll(user.id);
    await this.audit.success('auth.totp_disable', user, origin);
  }

  /** A current TOTP code not used before, or an unused recovery code; either is spent. */
  async verifyForLogin(user: UserWithSecrets, code: string): Promise<boolean> {
    const trimmed = code.trim();
    if (/^\d{6}$/.test(trimmed)) {
      if (!user.totpSecret) return false;
      const lastStep = user.totpLastStep === null ? undefined : Number(user.totpLastStep);
      const step = await this.matchingStep(this.secrets.open(user.id, user.totpSecret), trimmed, lastStep);
      return step !== undefined && (await this.users.claimTotpStep(user.id, step));
    }
    const recoveryCode = normalizeRecoveryCode(trimmed);
    if (recoveryCode.length !== 16) return false;
    return this.recoveryCodes.use(user.id, recoveryCode);
  }

  private async matchingStep(secret: string, code: string, afterStep: number | undefined): Promise<number | undefined> {
    if (!/^\d{6}$/.test(code.trim())) return undefined;
    const result = await verify({
      secret,
      token: code.trim(),
      epochTolerance: TOTP_TOLERANCE_SECONDS,
      ...(afterStep === undefined ? {} : { afterTimeStep: afterStep }),
    });
    return result.valid && 'timeStep' in result ? result.timeStep : undefined;
  }

  /** Codes are charged to the account and the address before they are checked, and refunded when right. */
  private async chargeCodeAttempt(userId: string, origin: Origin): Promise<void> {
    await this.protection.chargeAddress(origin.clientAddress);
    await this.protection.chargeCodeAttempt(userId);
  }

  private async refundCodeAttempt(userId: string, origin: Origin): Promise<void> {
    await this.protection.refundCodeAttempt(userId);
    await this.protection.refundAddress(origin.clientAddress);
  }

  private async requireUser(userId: string): Promise<UserWithSecrets> {
    const user = await this.users.findByIdWithSecrets(userId);
    if (!user?.active) throw new TokenRevokedError('The account is deactivated');
    return user;
  }
}
