import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { EmailTakenError, UsernameTakenError } from '@cloudstore/contracts';
import { isStorableText, substringPattern } from '@cloudstore/database';
import { type DataSource, type EntityManager, type Repository } from 'typeorm';
import { EMAIL_UNIQUE_CONSTRAINT, type Role, USERNAME_UNIQUE_CONSTRAINT, UserEntity } from './user.entity';

export interface NewUser {
  readonly username: string;
  readonly usernameKey: string;
  readonly email: string;
  readonly emailKey: string;
  readonly passwordHash: string;
  readonly role: Role;
}

/** A user with the secret columns that login needs. */
export type UserWithSecrets = UserEntity & { passwordHash: string; totpSecret: string | null; totpLastStep: string | null };

/** SQL of users. Uniqueness of usernames and emails is settled by the database constraints. */
@Injectable()
export class UsersRepository {
  private readonly users: Repository<UserEntity>;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.users = dataSource.getRepository(UserEntity);
  }

  async insert(user: NewUser): Promise<UserEntity> {
    try {
      const result = await this.users.createQueryBuilder().insert().values(user).returning('*').execute();
      return this.users.create(result.generatedMaps[0] as UserEntity);
    } catch (error) {
      const { code, constraint } = error as { code?: string; constraint?: string };
      if (code === '23505' && constraint === USERNAME_UNIQUE_CONSTRAINT) throw new UsernameTakenError('That username is taken');
      if (code === '23505' && constraint === EMAIL_UNIQUE_CONSTRAINT) {
        throw new EmailTakenError('An account with that email address exists');
      }
      throw error;
    }
  }

  /** By username or email, case-insensitively, with the password hash and TOTP state. */
  findForLogin(usernameOrEmail: string): Promise<UserWithSecrets | null> {
    const key = usernameOrEmail.trim().normalize('NFC').toLowerCase();
    if (!isStorableText(key)) return Promise.resolve(null);
    return this.withSecrets().where('u.username_key = :key OR u.email_key = :key', { key }).getOne();
  }

  findByIdWithSecrets(id: string): Promise<UserWithSecrets | null> {
    return this.withSecrets().where('u.id = :id', { id }).getOne();
  }

  /** By the lower-case email address (normalizeEmail's key), with the secrets. */
  findByEmailKeyWithSecrets(emailKey: string): Promise<UserWithSecrets | null> {
    if (!isStorableText(emailKey)) return Promise.resolve(null);
    return this.withSecrets().where('u.email_key = :emailKey', { emailKey }).getOne();
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ id });
  }

  findByUsernameKey(usernameKey: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ usernameKey });
  }

  async list(limit: number, offset: number, filter: string): Promise<[UserEntity[], number]> {
    const query = this.users
      .createQueryBuilder('u')
      .orderBy('u.created_at', 'ASC')
      .addOrderBy('u.id')
      .limit(limit)
      .offset(offset);
    if (filter) {
      const f = substringPattern(filter);
      if (f === undefined) return [[], 0];
      query.where(`(u.username_key LIKE :f ESCAPE '\\' OR u.email_key LIKE :f ESCAPE '\\')`, { f });
    }
    return query.getManyAndCount();
  }

  async update(id: string, patch: Partial<Pick<UserEntity, 'role' | 'active'>>): Promise<UserEntity | null> {
    if (Object.keys(patch).length > 0) await this.users.update({ id }, patch);
    return this.findById(id);
  }

  /** Deletes the account; its refresh tokens, sign-ins, recovery codes and reset links go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<void> {
    await this.users.delete({ id });
  }

  async setPasswordHash(id: string, passwordHash: string, manager?: EntityManager): Promise<void> {
    await (manager?.getRepository(UserEntity) ?? this.users).update({ id }, { passwordHash });
  }

  /** Stores a new, not yet confirmed, TOTP secret. */
  async setPendingTotpSecret(id: string, secret: string): Promise<void> {
    await this.users.update({ id }, { totpSecret: secret, totpEnabledAt: null, totpLastStep: null });
  }

  /** Enables the secret that was verified, only if it is still the pending one; true when it was. */
  async enableTotp(id: string, secret: string, step: number): Promise<boolean> {
    const result = await this.users
      .createQueryBuilder()
      .update()
      .set({ totpEnabledAt: () => 'now()', totpLastStep: String(step) })
      .where('id = :id AND totp_secret = :secret AND totp_enabled_at IS NULL', { id, secret })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  async disableTotp(id: string): Promise<void> {
    await this.users.update({ id }, { totpSecret: null, totpEnabledAt: null, totpLastStep: null });
  }

  /**
   * Records `step` as the last TOTP step used, only if it is newer than the one stored: of two
   * concurrent logins with one code, exactly one wins.
   */
  async claimTotpStep(id: string, step: number): Promise<boolean> {
    const result = await this.users
      .createQueryBuilder()
      .update()
      .set({ totpLastStep: String(step) })
      .where('id = :id AND (totp_last_step IS NULL OR totp_last_step < :step)', { id, step })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  private withSecrets() {
    return this.users.createQueryBuilder('u').addSelect(['u.passwordHash', 'u.totpSecret', 'u.totpLastStep']);
  }
}
