import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import { InvalidArgumentError } from '@cloudstore/contracts';
import { LOGGER, type Logger } from '@cloudstore/observability';
import type { Origin } from '../audit/audit-trail.service';
import { LoginSessionsStore } from '../login/login-sessions.store';
import { Reauthentication } from '../passwords/reauthentication.service';
import { BruteForceProtection } from '../rate-limits/brute-force-protection.service';
import { TokenIssuer } from '../tokens/token-issuer.service';
import { UsersRepository } from '../users/users.repository';
import { UsersService } from '../users/users.service';

/**
 * Auth's part of a GDPR erasure. The gateway runs the whole: the password (or an admin) first,
 * then the metadata service erases the user's data, then the account goes here, last, so that an
 * erasure cut short can be run again by the user who still signs in. The audit log records the
 * erasure on the metadata side, under the pseudonym.
 */
@Injectable()
export class AccountErasureService {
  constructor(
    private readonly users: UsersRepository,
    private readonly admins: UsersService,
    private readonly reauthentication: Reauthentication,
    private readonly tokens: TokenIssuer,
    private readonly protection: BruteForceProtection,
    private readonly logins: LoginSessionsStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** INVALID_CREDENTIALS unless `password` is the caller's; failures count as a login's do. */
  async confirm(caller: Caller, password: string, origin: Origin): Promise<void> {
    await this.reauthentication.confirm(caller.userId, password, origin, 'account.erase');
  }

  /** The caller's account. */
  async deleteOwn(caller: Caller): Promise<void> {
    await this.delete(caller.userId);
  }

  /** Another user's account, by an admin (checked in the database); the admin's own is refused. */
  async deleteByAdmin(callerId: string, userId: string): Promise<void> {
    const user = await this.admins.get(callerId, userId);
    if (user.id === callerId) throw new InvalidArgumentError('Admins erase their own account with DELETE /v1/me');
    await this.delete(user.id);
  }

  /**
   * Every token of the user stops working, then the account row goes with everything that hangs
   * on it, then the tokens are cut off once more (a sign-in that completed in between). What Redis
   * keeps of the account goes last, at best: it expires anyway, and the erasure is done.
   */
  private async delete(userId: string): Promise<void> {
    await this.tokens.revokeAllOfUser(userId);
    await this.users.delete(userId);
    await this.tokens.revokeAllOfUser(userId);
    try {
      await this.logins.endForAccount(userId);
      await this.protection.forgetAccount(userId);
    } catch (error) {
      this.logger.warn({ err: error }, "could not drop an erased account's login state from Redis; it expires by itself");
    }
  }
}
