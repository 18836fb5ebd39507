import { authConfigSchema, loadConfig } from '@cloudstore/config';
import { PasswordHasher } from './password-hasher';

describe(PasswordHasher.name, () => {
  const configured = (env: Record<string, string>) =>
    new PasswordHasher(
      loadConfig(authConfigSchema, { DATABASE_URL: 'postgres://127.0.0.1/x', REDIS_URL: 'redis://127.0.0.1', ...env }),
    );

  it('hashes with OWASP’s Argon2id baseline unless ARGON2_* say otherwise', async () => {
    expect(await configured({}).hash('Correct-Horse-42!')).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    const custom = configured({ ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '3', ARGON2_PARALLELISM: '2' });
    const hash = await custom.hash('Correct-Horse-42!');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=8192,p=2,t=3\$/);
    expect(await custom.verify(hash, 'Correct-Horse-42!')).toBe(true);
    expect(await custom.verify(hash, 'Wrong-Horse-42!')).toBe(false);
  });

  it('asks for a rehash only of hashes cheaper (memory × passes) than configured, or not Argon2id v1.3', () => {
    const sut = configured({});
    // argon2 writes the parameters as m, p, t; other writers use m, t, p.
    const phc = (type: string, m: number, t: number, p = 1) => `$${type}$v=19$m=${m},p=${p},t=${t}$c2FsdHNhbHQ$aGFzaA`;
    expect(sut.needsRehash(phc('argon2id', 19456, 2))).toBe(false);
    expect(sut.needsRehash(phc('argon2id', 65536, 3, 4))).toBe(false);
    expect(sut.needsRehash('$argon2id$v=19$m=47104,t=1,p=1$c2FsdA$aGFzaA')).toBe(false);
    expect(sut.needsRehash(phc('argon2id', 19456, 1))).toBe(true);
    expect(sut.needsRehash(phc('argon2id', 8192, 2, 4))).toBe(true);
    expect(sut.needsRehash(phc('argon2i', 65536, 3))).toBe(true);
    expect(sut.needsRehash('$argon2id$v=16$m=65536,t=3,p=1$c2FsdA$aGFzaA')).toBe(true);
    expect(sut.needsRehash('$argon2id$v=19$m=65536,p=4$c2FsdA$aGFzaA')).toBe(true);
    expect(sut.needsRehash('not a hash')).toBe(true);
    // Passes do not make up for too little memory.
    expect(sut.needsRehash(phc('argon2id', 1024, 100))).toBe(true);
    expect(sut.needsRehash(phc('argon2id', 7168, 6))).toBe(false);
  });

  it('refuses ARGON2_* values out of range at start, naming the variable', () => {
    expect(() => configured({ ARGON2_MEMORY_KIB: '64' })).toThrow(/ARGON2_MEMORY_KIB/);
    expect(() => configured({ ARGON2_TIME_COST: '0' })).toThrow(/ARGON2_TIME_COST/);
    expect(() => configured({ ARGON2_PARALLELISM: 'two' })).toThrow(/ARGON2_PARALLELISM/);
  });
});
