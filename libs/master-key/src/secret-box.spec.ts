import { randomBytes } from 'node:crypto';
import { MasterKeyring } from './keyring';
import { masterKey } from './master-key';
import { SealBrokenError } from './sealing';
import { deriveKey, KeyedHash, SEALED_VALUE_PATTERN, SecretBox, UnknownMasterKeyError } from './secret-box';

describe(SecretBox.name, () => {
  const master = masterKey(randomBytes(32));
  const sut = new SecretBox(new MasterKeyring(master), 'test secret');

  it('seals a secret into `v1.<master key id>.<base64url>` that holds no plaintext, and opens it again', () => {
    const sealed = sut.seal('JBSWY3DPEHPK3PXP', 'row-1');
    expect(sealed).toMatch(new RegExp(`^v1\\.${master.id}\\.[A-Za-z0-9_-]+$`));
    expect(sealed.startsWith(SEALED_VALUE_PATTERN.slice(0, -1))).toBe(true);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(sut.open(sealed, 'row-1')).toBe('JBSWY3DPEHPK3PXP');
    expect(sut.seal('JBSWY3DPEHPK3PXP', 'row-1')).not.toBe(sealed);
  });

  it('opens a sealed value only for its own row and purpose, and never altered', () => {
    const sealed = sut.seal('secret', 'row-1');
    expect(() => sut.open(sealed, 'row-2')).toThrow(SealBrokenError);
    expect(() => new SecretBox(new MasterKeyring(master), 'other purpose').open(sealed, 'row-1')).toThrow(SealBrokenError);
    // One character near the end changed (the second-to-last always carries only data bits).
    const at = sealed.length - 2;
    const flipped = `${sealed.slice(0, at)}${sealed[at] === 'A' ? 'B' : 'A'}${sealed.slice(at + 1)}`;
    expect(flipped).not.toBe(sealed);
    expect(() => sut.open(flipped, 'row-1')).toThrow(SealBrokenError);
    expect(() => sut.open('-----BEGIN PRIVATE KEY-----', 'row-1')).toThrow(SealBrokenError);
  });

  it('names the master key that sealed a value when another one is asked to open it', () => {
    const sealed = sut.seal('secret', 'row-1');
    const other = masterKey(randomBytes(32));
    expect(() => new SecretBox(new MasterKeyring(other), 'test secret').open(sealed, 'row-1')).toThrow(
      new UnknownMasterKeyError(
        `the test secret of row-1 was wrapped under master key ${master.id}, this service has ${other.id}`,
      ),
    );
  });

  it('opens under the previous key of the ring, and seals under the current one', () => {
    const sealed = sut.seal('secret', 'row-1');
    const next = masterKey(randomBytes(32));
    const rotating = new SecretBox(new MasterKeyring(next, master), 'test secret');
    expect(rotating.open(sealed, 'row-1')).toBe('secret');
    const resealed = rotating.seal('secret', 'row-1');
    expect(resealed.startsWith(`v1.${next.id}.`)).toBe(true);
    expect(new SecretBox(new MasterKeyring(next), 'test secret').open(resealed, 'row-1')).toBe('secret');
  });
});

describe(KeyedHash.name, () => {
  const master = masterKey(randomBytes(32));

  it('depends on the master key, the purpose and every part, and parts cannot be shifted between each other', () => {
    const sut = KeyedHash.derived(master, 'test');
    const digest = sut.digest('session', '123456');
    expect(sut.digest('session', '123456').equals(digest)).toBe(true);
    expect(sut.digest('session1', '23456').equals(digest)).toBe(false);
    expect(KeyedHash.derived(master, 'other').digest('session', '123456').equals(digest)).toBe(false);
    expect(
      KeyedHash.derived(masterKey(randomBytes(32)), 'test')
        .digest('session', '123456')
        .equals(digest),
    ).toBe(false);
  });

  it('derives keys per purpose that are not the master key', () => {
    expect(deriveKey(master, 'a')).toHaveLength(32);
    expect(deriveKey(master, 'a').equals(deriveKey(master, 'b'))).toBe(false);
    expect(deriveKey(master, 'a').equals(master.key)).toBe(false);
  });
});
