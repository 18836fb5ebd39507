import { join } from 'node:path';
import { z } from 'zod';
import { checkMasterKeys, checkRedisCaFile, commonVars, internalTlsVars, withInternalTlsFiles } from '../common-vars';
import { envVars } from '../env-vars';

export const PASSWORD_POLICIES = ['seed', 'nist'] as const;
export type PasswordPolicyName = (typeof PASSWORD_POLICIES)[number];

export const authConfigSchema = z
  .object({
    LOG_LEVEL: commonVars.LOG_LEVEL,
    AUTH_PORT: commonVars.AUTH_PORT,
    /** Where other services dial auth; on a loopback address (the default) it listens on loopback only. */
    AUTH_ADDRESS: commonVars.AUTH_ADDRESS,
    DATABASE_URL: commonVars.DATABASE_URL,
    REDIS_URL: commonVars.REDIS_URL,
    REDIS_CA_FILE: commonVars.REDIS_CA_FILE,
    REDIS_KEY_PREFIX: commonVars.REDIS_KEY_PREFIX,
    DATA_DIR: commonVars.DATA_DIR,
    /** Seals signing keys and TOTP secrets, keys the OTP MACs and the audit's attempted usernames. */
    MASTER_KEY: commonVars.MASTER_KEY,
    MASTER_KEY_PREVIOUS: commonVars.MASTER_KEY_PREVIOUS,
    METRICS_PORT: commonVars.METRICS_PORT,
    ...internalTlsVars,
    /** e.g. smtp://127.0.0.1:2525; without it OTP mail goes to OTP_OUTBOX_DIR as .eml files. */
    SMTP_URL: envVars.optionalUrl(['smtp:', 'smtps:']),
    /** On where codes must reach real mailboxes: auth then will not start without SMTP_URL. */
    SMTP_REQUIRED: envVars.boolean(false),
    MAIL_FROM: envVars.email('cloudstore@localhost'),
    OTP_OUTBOX_DIR: envVars.optionalString(),
    OTP_TTL_SECONDS: envVars.integer(300, 1, 3600),
    ACCESS_TOKEN_TTL_SECONDS: envVars.integer(3600, 1, 86400),
    REFRESH_TOKEN_TTL_SECONDS: envVars.integer(2592000, 60, 31536000),
    /** Absolute lifetime of a sign-in (its refresh-token family): no renewal carries it further. */
    SESSION_MAX_AGE_SECONDS: envVars.integer(2592000, 1, 31536000),
    LOGIN_MAX_ATTEMPTS: envVars.integer(5, 1, 1000),
    LOGIN_WINDOW_SECONDS: envVars.integer(900, 1, 86400),
    IP_MAX_ATTEMPTS: envVars.integer(100, 1, 1_000_000),
    /** Codes mailed to one account per LOGIN_WINDOW_SECONDS, so nobody can flood a mailbox. */
    OTP_MAILS_PER_ACCOUNT: envVars.integer(10, 1, 1000),
    /** Second-factor guesses per account per LOGIN_WINDOW_SECONDS, from all addresses together. */
    OTP_MAX_ATTEMPTS_PER_ACCOUNT: envVars.integer(10, 1, 1000),
    /** The page a password-reset mail links to, with `?token=<token>` added. */
    PASSWORD_RESET_URL: envVars.url('http://localhost:8080/reset-password', ['http:', 'https:']),
    /**
     * Argon2id cost of new password hashes, by default OWASP's baseline (19 MiB, 2 passes, 1 lane:
     * more lanes buy nothing on a small machine). A stored hash cheaper than this (memory × passes)
     * is upgraded at the user's next login; a costlier one is kept.
     */
    ARGON2_MEMORY_KIB: envVars.integer(19456, 1024, 4_194_304),
    ARGON2_TIME_COST: envVars.integer(2, 1, 100),
    ARGON2_PARALLELISM: envVars.integer(1, 1, 16),
    /** `seed`: 12+ characters of four classes; `nist`: 15+ characters, no class rules (SP 800-63B). */
    PASSWORD_POLICY: envVars.oneOf(PASSWORD_POLICIES, 'seed'),
    ADMIN_USERNAME: envVars.optionalString(),
    ADMIN_EMAIL: envVars.optionalString(),
    ADMIN_PASSWORD: envVars.optionalString(),
    /** PKCS#8 PEM of an Ed25519 key that signs access tokens; generated and kept in the database when unset. */
    TOKEN_SIGNING_KEY: envVars.optionalString(),
  })
  .refine(
    (c) =>
      [c.ADMIN_USERNAME, c.ADMIN_EMAIL, c.ADMIN_PASSWORD].every((v) => v === undefined) ||
      [c.ADMIN_USERNAME, c.ADMIN_EMAIL, c.ADMIN_PASSWORD].every((v) => v !== undefined),
    { message: 'ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD must be set together (or none of them)' },
  )
  .refine((c) => !c.SMTP_REQUIRED || c.SMTP_URL !== undefined, {
    path: ['SMTP_REQUIRED'],
    message: 'is on but SMTP_URL is not set: sign-in codes would be written to a local outbox nobody reads',
  })
  .superRefine((config, ctx) => {
    checkRedisCaFile(config, ctx);
    checkMasterKeys(config, ctx);
  })
  .transform((config) => ({
    ...withInternalTlsFiles(config, 'auth'),
    AUTH_ADDRESS: config.AUTH_ADDRESS ?? `127.0.0.1:${config.AUTH_PORT}`,
    OTP_OUTBOX_DIR: config.OTP_OUTBOX_DIR ?? join(config.DATA_DIR, 'outbox'),
  }));

export type AuthConfig = z.output<typeof authConfigSchema>;
