import { domainToASCII } from 'node:url';
import { type DomainError, InvalidEmailError, InvalidUsernameError } from '@cloudstore/contracts';

const USERNAME_PATTERN = /^[A-Za-z0-9_]{3,32}$/;
/** RFC 5322 atext. */
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const DOT_ATOM = new RegExp(`^${ATOM}(?:\\.${ATOM})*$`);
/** RFC 5322 quoted-string: printable ASCII but " and \, or a backslash-escaped printable. */
const QUOTED_STRING = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export interface NormalizedUsername {
  /** As typed. */
  readonly username: string;
  /** For case-insensitive uniqueness and lookup. */
  readonly key: string;
}

export function normalizeUsername(raw: string): NormalizedUsername {
  const username = raw.trim();
  if (!USERNAME_PATTERN.test(username)) {
    throw new InvalidUsernameError('Username must be 3 to 32 characters: letters, digits or underscore');
  }
  return { username, key: username.toLowerCase() };
}

export interface NormalizedEmail {
  /** NFC, domain in lower case (ASCII/punycode), local part as typed. */
  readonly email: string;
  /** The whole address in lower case: emails are unique case-insensitively. */
  readonly key: string;
  readonly localPart: string;
}

function invalidEmail(reason: string): DomainError {
  return new InvalidEmailError(`Email address is not valid: ${reason}`);
}

/** An RFC 5322 addr-spec whose domain is a host name with at least one dot (no IP literals). */
export function normalizeEmail(raw: string): NormalizedEmail {
  const value = raw.trim().normalize('NFC');
  if (value.length === 0 || value.length > 254) throw invalidEmail('it must be 1 to 254 characters');
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) throw invalidEmail('it must look like name@example.com');
  const localPart = value.slice(0, at);
  const domainPart = value.slice(at + 1);
  if (localPart.length > 64) throw invalidEmail('the part before @ is longer than 64 characters');
  if (!DOT_ATOM.test(localPart) && !QUOTED_STRING.test(localPart))
    throw invalidEmail('the part before @ has characters that are not allowed');
  const domain = domainToASCII(domainPart.toLowerCase());
  const labels = domain.split('.');
  if (!domain || labels.length < 2 || !labels.every((label) => DOMAIN_LABEL.test(label)) || /^\d+$/.test(labels.at(-1) ?? '')) {
    throw invalidEmail('the domain must be a host name such as example.com');
  }
  const email = `${localPart}@${domain}`;
  return { email, key: email.toLowerCase(), localPart };
}
