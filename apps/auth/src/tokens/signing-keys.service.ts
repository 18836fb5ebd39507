import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ACCESS_TOKEN_ALGORITHM, type VerificationKey } from '@cloudstore/access-tokens';
import type { AuthConfig } from '@cloudstore/config';
import { InvalidArgumentError } from '@cloudstore/contracts';
import { type SecretBox, SEALED_VALUE_PATTERN, sealedUnderPattern } from '@cloudstore/master-key';
import { LOGGER, type Logger } from '@cloudstore/observability';
import type { DataSource, EntityManager, Repository } from 'typeorm';
import { AUTH_CONFIG } from '../auth.tokens';
import { AuditTrail, type AuditedUser, type Origin } from '../audit/audit-trail.service';
import { AuthSecrets } from '../secrets/auth-secrets';
import { resealRows } from '../secrets/reseal-rows';
import { SigningKeyEntity } from './signing-key.entity';

export interface SigningKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
}

/** What a rotation did: the key that signs from now on, and the keys that verify until their time. */
export interface Rotation {
  readonly keyId: string;
  readonly createdAt: Date;
  readonly retiring: readonly { keyId: string; verifyUntil: Date }[];
}

/** Who asked for a rotation: an admin through the gateway, or an operator with `npm run keys:rotate`. */
export type RotationActor = { admin: AuditedUser; origin: Origin } | { operator: string };

/**
 * A superseded key verifies for this long beyond the access-token lifetime: a token signed with it
 * by a replica that read it just before the rotation, and small clock differences, stay covered.
 */
export const ROTATION_GRACE_SECONDS = 5;
/** How often each replica looks for keys past their verification to retire (erase and audit). */
export const RETIREMENT_CHECK_INTERVAL_MS = 10_000;
const ROTATION_LOCK = 'cloudstore signing key rotation';

function keyIdOf(publicKeyPem: string): string {
  return createHash('sha256').update(publicKeyPem).digest('base64url').slice(0, 16);
}

/**
 * The Ed25519 keys that sign access tokens: TOKEN_SIGNING_KEY when configured, else keys in the
 * database, their private half sealed under the master key. The newest key not superseded signs
 * (read at every issue, so every replica switches as soon as a rotation commits); a rotation gives
 * the keys before it `verify_until` = now + ACCESS_TOKEN_TTL_SECONDS + grace, and once that has
 * passed they are retired: dropped from the key set and their private half erased.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit, OnModuleDestroy {
  private readonly keys: Repository<SigningKeyEntity>;
  private readonly box: SecretBox;
  private configured: (VerificationKey & SigningKey) | undefined;
  /** Opened private keys by key id: a key is unsealed once per replica. */
  private readonly opened = new Map<string, KeyObject>();
  private retirementTimer: NodeJS.Timeout | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly audit: AuditTrail,
    secrets: AuthSecrets,
  ) {
    this.keys = dataSource.getRepository(SigningKeyEntity);
    this.box = secrets.signingKeys;
  }

  async onModuleInit(): Promise<void> {
    if (this.config.TOKEN_SIGNING_KEY) {
      const privateKey = createPrivateKey(this.config.TOKEN_SIGNING_KEY.replace(/\\n/g, '\n'));
      if (privateKey.asymmetricKeyType !== 'ed25519')
        throw new Error('TOKEN_SIGNING_KEY must be an Ed25519 private key (PKCS#8 PEM)');
      const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
      this.configured = { keyId: keyIdOf(publicKeyPem), publicKeyPem, privateKey };
      return;
    }
    const sealed = await this.sealPlaintextKeys();
    if (sealed) this.logger.info({ keys: sealed }, 'sealed token signing keys stored in plaintext under the master key');
    if (!(await this.newestKey())) {
      await this.insertNewKey(this.dataSource.manager);
      this.logger.info('generated a token signing key (set TOKEN_SIGNING_KEY to manage it yourself)');
    }
    await this.signingKey(); // fails the start when the master key cannot open the signing key
    this.retirementTimer = setInterval(() => {
      this.retireExpiredKeys().catch((error: unknown) => this.logger.error({ err: error }, 'retiring signing keys failed'));
    }, RETIREMENT_CHECK_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.retirementTimer);
  }

  /** The key to sign with now: the newest one not superseded. */
  async signingKey(): Promise<SigningKey> {
    if (this.configured) return this.configured;
    const newest = await this.newestKey();
    if (!newest?.privateKeyPem) throw new Error('no token signing key is stored');
    let privateKey = this.opened.get(newest.keyId);
    if (!privateKey) {
      privateKey = createPrivateKey(this.box.open(newest.privateKeyPem, newest.keyId));
      this.opened.set(newest.keyId, privateKey);
    }
    return { keyId: newest.keyId, privateKey };
  }

  /** Every key that may have signed a token still alive, each with the end of its verification. */
  async verificationKeys(): Promise<VerificationKey[]> {
    if (this.configured) return [{ keyId: this.configured.keyId, publicKeyPem: this.configured.publicKeyPem }];
    const keys = await this.keys
      .createQueryBuilder('k')
      .where('k.retired_at IS NULL AND (k.verify_until IS NULL OR k.verify_until > now())')
      .orderBy('k.created_at', 'DESC')
      .getMany();
    return keys.map((k) => ({
      keyId: k.keyId,
      publicKeyPem: k.publicKeyPem,
      ...(k.verifyUntil ? { notAfter: Math.floor(k.verifyUntil.getTime() / 1000) } : {}),
    }));
  }

  /**
   * Adds a new key that signs from now on; the keys before it verify what they signed until it
   * has expired. Concurrent rotations are serialised on the keys' rows.
   */
  async rotate(actor: RotationActor): Promise<Rotation> {
    if (this.configured)
      throw new InvalidArgumentError('The signing key is set by TOKEN_SIGNING_KEY: rotate it by changing that variable');
    const rotation = await this.dataSource.transaction(async (manager) => {
      // One rotation at a time; each statement after the lock sees what the one before committed.
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [ROTATION_LOCK]);
      const current = await manager
        .createQueryBuilder(SigningKeyEntity, 'k')
        .where('k.verify_until IS NULL AND k.retired_at IS NULL')
        .getMany();
      const created = await this.insertNewKey(manager);
      const verifyUntil = new Date(
        (await this.databaseNow(manager)).getTime() + (this.config.ACCESS_TOKEN_TTL_SECONDS + ROTATION_GRACE_SECONDS) * 1000,
      );
      if (current.length)
        await manager.update(
          SigningKeyEntity,
          current.map((k) => k.keyId),
          { verifyUntil },
        );
      return {
        keyId: created.keyId,
        createdAt: created.createdAt,
        retiring: current.map((k) => ({ keyId: k.keyId, verifyUntil })),
      };
    });
    const details = { keyId: rotation.keyId, retiring: rotation.retiring.map((k) => k.keyId).join(',') };
    await this.audit.record(
      'admin' in actor
        ? {
            operation: 'auth.signing_key_rotate',
            status: 'success',
            userId: actor.admin.id,
            username: actor.admin.username,
            origin: actor.origin,
            details,
          }
        : { operation: 'auth.signing_key_rotate', status: 'success', details: { ...details, operator: actor.operator } },
    );
    this.logger.info(details, 'rotated the token signing key');
    return rotation;
  }

  /**
   * Retires the keys whose verification has ended: they leave the key set (already, by their
   * `verify_until`) and their private half is erased. Each key is retired by one replica, once.
   */
  async retireExpiredKeys(): Promise<string[]> {
    const result = await this.keys
      .createQueryBuilder()
      .update()
      .set({ retiredAt: () => 'now()', privateKeyPem: null })
      .where('retired_at IS NULL AND verify_until <= now()')
      .returning(['keyId'])
      .execute();
    const retired = (result.raw as { key_id: string }[]).map((row) => row.key_id);
    for (const keyId of retired) {
      this.opened.delete(keyId);
      await this.audit.record({ operation: 'auth.signing_key_retire', status: 'success', details: { keyId } });
      this.logger.info({ keyId }, 'retired a token signing key');
    }
    return retired;
  }

  /** Seals private keys stored in plaintext before sealing existed (see resealRows). */
  sealPlaintextKeys(): Promise<number> {
    return resealRows(this.keys, 'keyId', 'privateKeyPem', SEALED_VALUE_PATTERN, (pem, keyId) => this.box.seal(pem, keyId));
  }

  /**
   * Master-key rotation: re-seals under the current master key the private keys sealed under
   * another. Not at start: replicas not yet given the new key would no longer open them.
   */
  resealUnderCurrentKey(): Promise<number> {
    return resealRows(this.keys, 'keyId', 'privateKeyPem', sealedUnderPattern(this.box.masterKeyId), (sealed, keyId) =>
      this.box.seal(this.box.open(sealed, keyId), keyId),
    );
  }

  private async insertNewKey(manager: EntityManager): Promise<SigningKeyEntity> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const keyId = keyIdOf(publicKeyPem);
    const privateKeyPem = this.box.seal(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), keyId);
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(SigningKeyEntity)
      .values({ keyId, algorithm: ACCESS_TOKEN_ALGORITHM, publicKeyPem, privateKeyPem })
      .returning(['keyId', 'createdAt'])
      .execute();
    const [row] = result.raw as { key_id: string; created_at: Date }[];
    return Object.assign(new SigningKeyEntity(), { keyId, createdAt: row?.created_at ?? new Date() });
  }

  private async databaseNow(manager: EntityManager): Promise<Date> {
    const [row] = await manager.query<{ now: Date }[]>('SELECT now() AS now');
    return row?.now ?? new Date();
  }

  private newestKey(): Promise<SigningKeyEntity | null> {
    return this.keys
      .createQueryBuilder('k')
      .addSelect('k.privateKeyPem')
      .where('k.verify_until IS NULL AND k.retired_at IS NULL')
      .orderBy('k.created_at', 'DESC')
      .addOrderBy('k.key_id')
      .getOne();
  }
}
