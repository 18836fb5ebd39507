import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ACCESS_TOKEN_ALGORITHM, type VerificationKey } from '@cloudstore/access-tokens';
import type { AuthConfig } from '@cloudstore/config';
import { LOGGER, type Logger } from '@cloudstore/observability';
import { type DataSource, IsNull, type Repository } from 'typeorm';
import { AUTH_CONFIG } from '../auth.tokens';
import { SigningKeyEntity } from './signing-key.entity';

export interface SigningKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
}

function keyIdOf(publicKeyPem: string): string {
  return createHash('sha256').update(publicKeyPem).digest('base64url').slice(0, 16);
}

/**
 * The Ed25519 key that signs access tokens: TOKEN_SIGNING_KEY when configured, else the newest
 * key in the database, generated on first start and shared by every auth replica.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit {
  private readonly keys: Repository<SigningKeyEntity>;
  private active: SigningKey | undefined;
  private configured: VerificationKey | undefined;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.keys = dataSource.getRepository(SigningKeyEntity);
  }

  async onModuleInit(): Promise<void> {
    if (this.config.TOKEN_SIGNING_KEY) {
      const privateKey = createPrivateKey(this.config.TOKEN_SIGNING_KEY.replace(/\\n/g, '\n'));
      if (privateKey.asymmetricKeyType !== 'ed25519')
        throw new Error('TOKEN_SIGNING_KEY must be an Ed25519 private key (PKCS#8 PEM)');
      const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
      this.configured = { keyId: keyIdOf(publicKeyPem), publicKeyPem };
      this.active = { keyId: this.configured.keyId, privateKey };
      return;
    }
    let newest = await this.newestStoredKey();
    if (!newest) {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      await this.keys
        .createQueryBuilder()
        .insert()
        .values({ keyId: keyIdOf(publicKeyPem), algorithm: ACCESS_TOKEN_ALGORITHM, publicKeyPem, privateKeyPem })
        .orIgnore()
        .execute();
      this.logger.info('generated a token signing key (set TOKEN_SIGNING_KEY to manage it yourself)');
      newest = await this.newestStoredKey();
    }
    if (!newest) throw new Error('no token signing key could be stored');
    this.active = { keyId: newest.keyId, privateKey: createPrivateKey(newest.privateKeyPem) };
  }

  signingKey(): SigningKey {
    if (!this.active) throw new Error('signing keys are not loaded yet');
    return this.active;
  }

  /** Every key that may have signed a token still alive. */
  async verificationKeys(): Promise<VerificationKey[]> {
    if (this.configured) return [this.configured];
    const keys = await this.keys.find({ where: { retiredAt: IsNull() }, order: { createdAt: 'DESC' } });
    return keys.map((k) => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem }));
  }

  private newestStoredKey(): Promise<(SigningKeyEntity & { privateKeyPem: string }) | null> {
    return this.keys
      .createQueryBuilder('k')
      .addSelect('k.privateKeyPem')
      .where('k.retired_at IS NULL')
      .orderBy('k.created_at', 'DESC')
      .addOrderBy('k.key_id')
      .getOne();
  }
}
