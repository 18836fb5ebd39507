import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { AuthConfig } from '@cloudstore/config';
import type { Caller } from '@cloudstore/access-tokens';
import {
  DomainError,
  InvalidArgumentError,
  NotFoundError,
  pageOf,
  PermissionDeniedError,
  TokenRevokedError,
} from '@cloudstore/contracts';
import { isStorableText } from '@cloudstore/database';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { AuditTrail, type Origin } from '../audit/audit-trail.service';
import { AUTH_CONFIG } from '../auth.tokens';
import { BruteForceProtection } from '../rate-limits/brute-force-protection.service';
import { TokenIssuer } from '../tokens/token-issuer.service';
import { PasswordHasher } from './password-hasher';
import { assertPasswordAllowed } from './password-policy';
import { isRole, type Role, type UserEntity } from './user.entity';
import { normalizeEmail, normalizeUsername } from './user-input';
import { UsersRepository } from './users.repository';

/** Accounts: registration, the admin's view and changes, and the bootstrap admin. */
@Injectable()
export class UsersService implements OnApplicationBootstrap {
  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly protection: BruteForceProtection,
    private readonly tokens: TokenIssuer,
    private readonly audit: AuditTrail,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async register(input: { username: string; email: string; password: string }, origin: Origin): Promise<UserEntity> {
    await this.protection.chargeAddress(origin.clientAddress);
    try {
      const user = await this.create(input, 'basic');
      await this.audit.success('auth.register', user, origin);
      return user;
    } catch (error) {
      if (error instanceof DomainError) {
        await this.audit.record({
          operation: 'auth.register',
          status: 'failure',
          errorCode: error.code,
          username: input.username.slice(0, 64),
          origin,
        });
      }
      throw error;
    }
  }

  /** Creates ADMIN_USERNAME when ADMIN_* are set and no such user exists; idempotent. */
  async onApplicationBootstrap(): Promise<void> {
    const { ADMIN_USERNAME: username, ADMIN_EMAIL: email, ADMIN_PASSWORD: password } = this.config;
    if (!username || !email || !password) return;
    const existing = await this.users.findByUsernameKey(normalizeUsername(username).key);
    if (existing) return;
    try {
      const admin = await this.create({ username, email, password }, 'admin');
      await this.audit.record({ operation: 'admin.bootstrap', status: 'success', userId: admin.id, username: admin.username });
      this.logger.info({ username: admin.username }, 'created the admin account from ADMIN_USERNAME');
    } catch (error) {
      // Another replica created it first.
      if (error instanceof DomainError && (error.code === 'USERNAME_TAKEN' || error.code === 'EMAIL_TAKEN')) return;
      if (error instanceof DomainError)
        throw new Error(`ADMIN_USERNAME/ADMIN_EMAIL/ADMIN_PASSWORD: ${error.message}`, { cause: error });
      throw error;
    }
  }

  async list(callerId: string, limit: number, offset: number, filter: string): Promise<[UserEntity[], number]> {
    await this.requireAdmin(callerId);
    const page = pageOf(limit, offset);
    return this.users.list(page.limit, page.offset, filter.trim());
  }

  async get(callerId: string, userId: string): Promise<UserEntity> {
    await this.requireAdmin(callerId);
    return this.requireUser(userId);
  }

  /** An active account by its username (case-insensitive); NOT_FOUND for none, whatever was typed. */
  async findActiveByUsername(username: string): Promise<UserEntity> {
    const key = username.trim().toLowerCase();
    const user = isStorableText(key) && key.length <= 64 ? await this.users.findByUsernameKey(key) : null;
    if (!user?.active) throw new NotFoundError('No account has that username');
    return user;
  }

  /** The caller's own account, for a GDPR export, which is audited. */
  async exportOwn(caller: Caller, origin: Origin): Promise<UserEntity> {
    const user = await this.users.findById(caller.userId);
    if (!user?.active) throw new TokenRevokedError('The account is deactivated');
    await this.audit.success('account.export', user, origin);
    return user;
  }

  /** Role and active flag; either change revokes the user's tokens so the change takes effect at once. */
  async update(
    callerId: string,
    userId: string,
    patch: { role?: string; active?: boolean },
    origin: Origin,
  ): Promise<UserEntity> {
    const admin = await this.requireAdmin(callerId);
    const user = await this.requireUser(userId);
    if (patch.role !== undefined && !isRole(patch.role)) throw new InvalidArgumentError('role must be basic, premium or admin');
    if (userId === admin.id && (patch.active === false || (patch.role !== undefined && patch.role !== 'admin'))) {
      throw new InvalidArgumentError('Admins cannot deactivate or demote themselves');
    }
    const changes: Partial<Pick<UserEntity, 'role' | 'active'>> = {};
    if (patch.role !== undefined && patch.role !== user.role) changes.role = patch.role;
    if (patch.active !== undefined && patch.active !== user.active) changes.active = patch.active;
    const updated = (await this.users.update(userId, changes)) ?? user;
    if (Object.keys(changes).length > 0) {
      await this.tokens.revokeAllOfUser(userId);
      await this.audit.record({
        operation: 'admin.user_update',
        status: 'success',
        userId: admin.id,
        username: admin.username,
        subjectUserId: userId,
        origin,
        details: {
          ...(changes.role ? { role: changes.role } : {}),
          ...(changes.active !== undefined ? { active: changes.active } : {}),
        },
      });
    }
    return updated;
  }

  private async create(input: { username: string; email: string; password: string }, role: Role): Promise<UserEntity> {
    const { username, key: usernameKey } = normalizeUsername(input.username);
    const { email, key: emailKey, localPart } = normalizeEmail(input.email);
    assertPasswordAllowed(this.config.PASSWORD_POLICY, input.password, { username, emailLocalPart: localPart });
    const passwordHash = await this.hasher.hash(input.password);
    return this.users.insert({ username, usernameKey, email, emailKey, passwordHash, role });
  }

  /** The caller's account when it is an active admin, checked in the database (not from the token). */
  async requireAdmin(callerId: string): Promise<UserEntity> {
    const caller = await this.users.findById(callerId);
    if (!caller?.active || caller.role !== 'admin') throw new PermissionDeniedError('Only admins may do this');
    return caller;
  }

  private async requireUser(userId: string): Promise<UserEntity> {
    const user = /^[0-9a-f-]{36}$/i.test(userId) ? await this.users.findById(userId) : null;
    if (!user) throw new NotFoundError('No such user');
    return user;
  }
}
