import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { SEALED_VALUE_PATTERN, type SecretBox } from '@cloudstore/master-key';
import { LOGGER, type Logger } from '@cloudstore/observability';
import type { DataSource } from 'typeorm';
import { AuthSecrets } from '../secrets/auth-secrets';
import { UserEntity } from '../users/user.entity';

/**
 * TOTP secrets at rest: sealed under the master key, bound to the user's id, so the database
 * alone (a dump, a backup) gives no authenticator codes. Secrets stored in plaintext before
 * sealing existed are sealed at start.
 */
@Injectable()
export class TotpSecrets implements OnModuleInit {
  private readonly box: SecretBox;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    secrets: AuthSecrets,
  ) {
    this.box = secrets.totpSecrets;
  }

  async onModuleInit(): Promise<void> {
    const sealed = await this.sealPlaintextSecrets();
    if (sealed) this.logger.info({ users: sealed }, 'sealed TOTP secrets stored in plaintext under the master key');
  }

  seal(userId: string, secret: string): string {
    return this.box.seal(secret, userId);
  }

  open(userId: string, sealed: string): string {
    return this.box.open(sealed, userId);
  }

  /** Idempotent, and safe with replicas starting together: a row changes only while it still holds the plaintext. */
  async sealPlaintextSecrets(): Promise<number> {
    const users = this.dataSource.getRepository(UserEntity);
    const plaintext = await users
      .createQueryBuilder('u')
      .select(['u.id', 'u.totpSecret'])
      .where('u.totp_secret NOT LIKE :sealed', { sealed: SEALED_VALUE_PATTERN })
      .getMany();
    let sealed = 0;
    for (const user of plaintext) {
      if (!user.totpSecret) continue;
      const result = await users
        .createQueryBuilder()
        .update()
        .set({ totpSecret: this.seal(user.id, user.totpSecret) })
        .where('id = :id AND totp_secret = :plain', { id: user.id, plain: user.totpSecret })
        .execute();
      sealed += result.affected ?? 0;
    }
    return sealed;
  }
}
