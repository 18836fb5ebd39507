import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type SecretBox, SEALED_VALUE_PATTERN, sealedUnderPattern } from '@cloudstore/master-key';
import { LOGGER, type Logger } from '@cloudstore/observability';
import type { DataSource } from 'typeorm';
import { AuthSecrets } from '../secrets/auth-secrets';
import { resealRows } from '../secrets/reseal-rows';
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

  /** Seals TOTP secrets stored in plaintext before sealing existed (see resealRows). */
  sealPlaintextSecrets(): Promise<number> {
    return resealRows(this.dataSource.getRepository(UserEntity), 'id', 'totpSecret', SEALED_VALUE_PATTERN, (secret, userId) =>
      this.seal(userId, secret),
    );
  }

  /** Master-key rotation: re-seals under the current master key the secrets sealed under another. */
  resealUnderCurrentKey(): Promise<number> {
    return resealRows(
      this.dataSource.getRepository(UserEntity),
      'id',
      'totpSecret',
      sealedUnderPattern(this.box.masterKeyId),
      (sealed, userId) => this.seal(userId, this.open(userId, sealed)),
    );
  }
}
