import { accessSync, constants, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';

/** An IP network: `address` (the network as written, normalised) and prefix length. */
export interface Cidr {
  readonly family: 'ipv4' | 'ipv6';
  readonly address: string;
  readonly prefix: number;
}

/** `10.0.0.0/8`, `::1/128`, or a bare address (a /32 or /128); undefined when it is none. */
export function parseCidr(raw: string): Cidr | undefined {
  const match = /^([^/]+?)(?:\/(\d{1,3}))?$/.exec(raw.trim());
  if (!match?.[1]) return undefined;
  const version = isIP(match[1]);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = match[2] === undefined ? max : Number(match[2]);
  if (prefix > max) return undefined;
  return { family: version === 4 ? 'ipv4' : 'ipv6', address: match[1].toLowerCase(), prefix };
}

/**
 * Builders for environment variables. Each takes the raw string (or undefined when unset) and
 * either yields a typed value or fails with a message that completes the sentence
 * "<VARIABLE> must be …".
 */
type EnvVar<T> = z.ZodType<T, string | undefined>;

/**
 * `url` with its password masked, for messages and logs; a value that does not parse as a URL is
 * not shown at all (it may hold a password where no parser finds it).
 */
export function redactUrl(url: string, unparseable = '<not a URL>'): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return unparseable;
  }
}

/** Why `path` is not a readable file, or undefined when it is one. */
function unreadableFileReason(path: string): string | undefined {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile() ? undefined : 'not a file';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'unreadable';
  }
}

/**
 * `secret`: a refused value is not repeated in the error (it would end up in logs); `shown`: how
 * a refused value is repeated (e.g. a URL with its password masked).
 */
function envVar<T>(
  defaultValue: T | undefined,
  expected: string,
  parse: (raw: string) => T | undefined,
  { secret = false, shown = (raw: string) => JSON.stringify(raw) } = {},
): EnvVar<T> {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const value = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
      if (value === undefined) {
        if (defaultValue !== undefined) return defaultValue;
        ctx.addIssue({ code: 'custom', message: `must be set (${expected})` });
        return z.NEVER;
      }
      const parsed = parse(value);
      if (parsed === undefined) {
        const got = secret ? `got ${value.length} characters (not shown: it is a secret)` : `got ${shown(value)}`;
        ctx.addIssue({ code: 'custom', message: `must be ${expected}, ${got}` });
        return z.NEVER;
      }
      return parsed;
    });
}

function parseInteger(raw: string, min: number, max: number): number | undefined {
  if (!/^-?\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

export const envVars = {
  port: (defaultValue?: number) => envVar(defaultValue, 'a port number from 1 to 65535', (raw) => parseInteger(raw, 1, 65535)),

  /** A port, or 0 to turn the listener off. */
  optionalPort: (defaultValue: number) =>
    envVar(defaultValue, 'a port number from 1 to 65535, or 0 for off', (raw) => parseInteger(raw, 0, 65535)),

  integer: (defaultValue: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER) =>
    envVar(defaultValue, `an integer from ${min} to ${max}`, (raw) => parseInteger(raw, min, max)),
  /** Unset is undefined: a rule elsewhere decides (e.g. WRITE_QUORUM follows the replication factor). */
  optionalInteger: (min: number, max: number) =>
    envVar<number | null>(null, `an integer from ${min} to ${max}`, (raw) => parseInteger(raw, min, max)).transform(
      (value) => value ?? undefined,
    ),

  /** A refused URL is shown with its password masked. */
  url: (defaultValue: string | undefined, protocols: readonly string[]) =>
    envVar(
      defaultValue,
      `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
      (raw) => {
        try {
          const url = new URL(raw);
          return protocols.includes(url.protocol) && url.hostname !== '' ? raw : undefined;
        } catch {
          return undefined;
        }
      },
      { shown: (raw) => JSON.stringify(redactUrl(raw)) },
    ),

  optionalUrl: (protocols: readonly string[]) =>
    envVars.url('', protocols).transform((value) => (value === '' ? undefined : value)),

  /** host:port, as gRPC dials it. */
  address: (defaultValue?: string) =>
    envVar(defaultValue, 'an address of the form host:port', (raw) => {
      const match = /^(.+):(\d+)$/.exec(raw);
      return match && parseInteger(match[2] ?? '', 1, 65535) !== undefined ? raw : undefined;
    }),

  optionalAddress: () => envVars.address('').transform((value) => (value === '' ? undefined : value)),

  string: (defaultValue?: string) => envVar(defaultValue, 'a non-empty string', (raw) => raw),

  optionalString: () => envVars.string('').transform((value) => (value === '' ? undefined : value)),

  /** The path of a file this process can read (checked at start); unset is undefined. */
  optionalFile: () =>
    z
      .string()
      .optional()
      .transform((raw, ctx) => {
        const path = raw?.trim();
        if (!path) return undefined;
        const reason = unreadableFileReason(path);
        if (reason === undefined) return path;
        ctx.addIssue({ code: 'custom', message: `must be a readable file, got ${JSON.stringify(path)} (${reason})` });
        return z.NEVER;
      }),

  oneOf: <const T extends string>(values: readonly T[], defaultValue: T) =>
    envVar<T>(defaultValue, `one of ${values.join(', ')}`, (raw) => values.find((v) => v === raw)),

  /** An identifier made of letters, digits, '-' and '_' (node ids, key prefixes). */
  identifier: (defaultValue?: string) =>
    envVar(defaultValue, "1 to 64 letters, digits, '-' or '_'", (raw) => (/^[A-Za-z0-9_-]{1,64}$/.test(raw) ? raw : undefined)),

  boolean: (defaultValue: boolean) =>
    envVar(defaultValue, 'true or false', (raw) => ({ true: true, false: false, '1': true, '0': false })[raw.toLowerCase()]),

  /** Comma separated CIDRs (or bare addresses); unset is the empty list. */
  cidrList: () =>
    envVar<readonly Cidr[]>([], 'a comma separated list of CIDRs such as 10.0.0.0/8,::1/128', (raw) => {
      const cidrs = raw.split(',').map((part) => parseCidr(part));
      return cidrs.every((c): c is Cidr => c !== undefined) ? cidrs : undefined;
    }),

  email: (defaultValue?: string) =>
    envVar(defaultValue, 'an email address', (raw) => (/^[^\s@]+@[^\s@]+$/.test(raw) ? raw : undefined)),

  /** A base64 encoded secret key of exactly `bytes` bytes. */
  base64Key: (bytes: number) =>
    envVar<Buffer | null>(
      null,
      `base64 of exactly ${bytes} bytes`,
      (raw) => {
        const key = Buffer.from(raw, 'base64');
        return key.length === bytes && key.toString('base64').replace(/=+$/, '') === raw.replace(/=+$/, '') ? key : undefined;
      },
      { secret: true },
    ),
};
