import { Injectable } from '@nestjs/common';
import { InvalidCredentialsError, TokenRevokedError } from '@cloudstore/contracts';
import { AuditTrail, type Origin } from '../audit/audit-trail.service';
import { BruteForceProtection } from '../rate-limits/brute-force-protection.service';
import { PasswordHasher } from '../users/password-hasher';
import { UsersRepository, type UserWithSecrets } from '../users/users.repository';

/**
 * The password asked again before a signed-in user changes how they sign in (password, second
 * factor): a stolen access token alone is not enough. Wrong passwords count like failed logins
 * (per account and address, and the account's back-off).
 */
@Injectable()
export class Reauthentication {
  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly protection: BruteForceProtection,
    private readonly audit: AuditTrail,
  ) {}

  /** The signed-in user with secrets, once `password` is theirs; INVALID_CREDENTIALS otherwise. */
  async confirm(userId: string, password: string, origin: Origin, operation: string): Promise<UserWithSecrets> {
    const user = await this.users.findByIdWithSecrets(userId);
    if (!user?.active) throw new TokenRevokedError('The account is deactivated');
    await this.protection.assertPasswordAttemptAllowed(user.id, origin.clientAddress);
    if (!password || !(await this.hasher.verify(user.passwordHash, password))) {
      await this.protection.recordPasswordFailure(user.id, origin.clientAddress);
      await this.audit.failure(operation, 'INVALID_CREDENTIALS', user, origin);
      throw new InvalidCredentialsError('The current password is wrong');
    }
    return user;
  }
}
