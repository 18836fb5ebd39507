import { join } from 'node:path';
import type { z } from 'zod';
import { envVars } from './env-vars';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/cloudstore';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379/0';
export const DEFAULT_PORTS = {
  GRPC_PORT: 50051,
  HTTP_PORT: 8080,
  AUTH_PORT: 50061,
  METADATA_PORT: 50062,
  STORAGE_NODE_BASE_PORT: 50071,
} as const;

/** Variables that more than one service reads; each service picks what it needs. */
export const commonVars = {
  LOG_LEVEL: envVars.oneOf(LOG_LEVELS, 'info'),
  DATABASE_URL: envVars.url(DEFAULT_DATABASE_URL, ['postgres:', 'postgresql:']),
  /** redis:// or rediss:// (TLS), with an optional `user:password@` (ACL) and `/N` database index. */
  REDIS_URL: envVars.url(DEFAULT_REDIS_URL, ['redis:', 'rediss:']),
  /** PEM of the CA(s) a rediss:// server's certificate chains to; unset: the system's trusted roots. */
  REDIS_CA_FILE: envVars.optionalFile(),
  /** Prefix of every Redis key, so that several clusters (or test runs) can share one Redis. */
  REDIS_KEY_PREFIX: envVars.identifier('cloudstore'),
  DATA_DIR: envVars.string('./data'),
  /**
   * Base64 of the cluster's 32-byte master key: the gateway wraps file keys with it, auth seals its
   * secrets with keys derived from it. Unset: DATA_DIR/master.key, generated there (mode 0600) once.
   */
  MASTER_KEY: envVars.base64Key(32),
  /**
   * During a master-key rotation, the key MASTER_KEY replaces: still accepted to unwrap what it
   * wrapped, never used to wrap. Removed once `npm run keys:rotate-master` has re-wrapped everything.
   */
  MASTER_KEY_PREVIOUS: envVars.base64Key(32),
  AUTH_PORT: envVars.port(DEFAULT_PORTS.AUTH_PORT),
  METADATA_PORT: envVars.port(DEFAULT_PORTS.METADATA_PORT),
  /** Where other services dial auth / metadata; defaults to this host and the port above. */
  AUTH_ADDRESS: envVars.optionalAddress(),
  METADATA_ADDRESS: envVars.optionalAddress(),
  /** Prometheus metrics of a service without a public HTTP port; 0 turns it off. */
  METRICS_PORT: envVars.optionalPort(0),
} as const;

/** A CA file given for a plaintext Redis is a mistake: the connection would not be the TLS one meant. */
export function checkRedisCaFile(config: { REDIS_URL: string; REDIS_CA_FILE?: string | undefined }, ctx: z.RefinementCtx): void {
  if (config.REDIS_CA_FILE !== undefined && !config.REDIS_URL.startsWith('rediss://'))
    ctx.addIssue({ code: 'custom', path: ['REDIS_CA_FILE'], message: 'is set, but REDIS_URL is not rediss:// (TLS)' });
}

/** A previous master key equal to the current one is a mistake: the rotation would change nothing. */
export function checkMasterKeys(
  config: { MASTER_KEY: Buffer | null; MASTER_KEY_PREVIOUS: Buffer | null },
  ctx: z.RefinementCtx,
): void {
  if (config.MASTER_KEY && config.MASTER_KEY_PREVIOUS?.equals(config.MASTER_KEY))
    ctx.addIssue({ code: 'custom', path: ['MASTER_KEY_PREVIOUS'], message: 'is the same key as MASTER_KEY' });
}

export const INTERNAL_TLS_MODES = ['on', 'off'] as const;

/** Mutual TLS of internal gRPC; every service reads these. */
export const internalTlsVars = {
  /** `off` only for debugging: internal gRPC in plaintext, warned about at every start. */
  INTERNAL_TLS: envVars.oneOf(INTERNAL_TLS_MODES, 'on'),
  /** The cluster CA and this service's certificate and key (PEM); default: the local cluster's dev PKI. */
  INTERNAL_CA_FILE: envVars.optionalString(),
  INTERNAL_CERT_FILE: envVars.optionalString(),
  INTERNAL_KEY_FILE: envVars.optionalString(),
} as const;

/**
 * Fills the INTERNAL_*_FILE defaults from the local cluster's dev PKI: DATA_DIR/pki/ca.crt and
 * DATA_DIR/pki/<service>.crt and .key.
 */
export function withInternalTlsFiles<
  T extends {
    DATA_DIR: string;
    INTERNAL_CA_FILE?: string | undefined;
    INTERNAL_CERT_FILE?: string | undefined;
    INTERNAL_KEY_FILE?: string | undefined;
  },
>(config: T, service: string): T & { INTERNAL_CA_FILE: string; INTERNAL_CERT_FILE: string; INTERNAL_KEY_FILE: string } {
  const pki = join(config.DATA_DIR, 'pki');
  return {
    ...config,
    INTERNAL_CA_FILE: config.INTERNAL_CA_FILE ?? join(pki, 'ca.crt'),
    INTERNAL_CERT_FILE: config.INTERNAL_CERT_FILE ?? join(pki, `${service}.crt`),
    INTERNAL_KEY_FILE: config.INTERNAL_KEY_FILE ?? join(pki, `${service}.key`),
  };
}

/** Fills AUTH_ADDRESS / METADATA_ADDRESS from the ports when they are not set. */
export function withServiceAddresses<
  T extends {
    AUTH_PORT: number;
    METADATA_PORT: number;
    AUTH_ADDRESS?: string | undefined;
    METADATA_ADDRESS?: string | undefined;
  },
>(config: T): T & { AUTH_ADDRESS: string; METADATA_ADDRESS: string } {
  return {
    ...config,
    AUTH_ADDRESS: config.AUTH_ADDRESS ?? `127.0.0.1:${config.AUTH_PORT}`,
    METADATA_ADDRESS: config.METADATA_ADDRESS ?? `127.0.0.1:${config.METADATA_PORT}`,
  };
}
