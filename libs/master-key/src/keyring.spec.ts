import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@cloudstore/observability';
import { newUserKey, unwrapUserKey } from './envelope';
import { loadMasterKeyring, MasterKeyring } from './keyring';
import { masterKey } from './master-key';
import { SealBrokenError } from './sealing';
import { UnknownMasterKeyError } from './secret-box';

describe(MasterKeyring.name, () => {
  const current = masterKey(randomBytes(32));
  const previous = masterKey(randomBytes(32));

  it('finds each of its keys by id, the current one first, and names what it lacks', () => {
    const sut = new MasterKeyring(current, previous);
    expect(sut.all).toEqual([current, previous]);
    expect(sut.get(previous.id, 'x')).toBe(previous);
    expect(() => new MasterKeyring(current).get(previous.id, 'the key of user u')).toThrow(
      new UnknownMasterKeyError(`the key of user u was wrapped under master key ${previous.id}, this service has ${current.id}`),
    );
  });

  it('unwraps a user key under whichever key of the ring wrapped it, only for its own user', () => {
    const wrapped = newUserKey(previous, 'user-1');
    const sut = new MasterKeyring(current, previous);
    expect(unwrapUserKey(sut, 'user-1', wrapped.wrapped, previous.id).equals(wrapped.key)).toBe(true);
    expect(() => unwrapUserKey(sut, 'user-2', wrapped.wrapped, previous.id)).toThrow(SealBrokenError);
    expect(() => unwrapUserKey(sut, 'user-1', wrapped.wrapped, current.id)).toThrow(SealBrokenError);
  });

  it('loads MASTER_KEY as the current key and MASTER_KEY_PREVIOUS as the previous one', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cloudstore-ring-'));
    try {
      const logger = createLogger('test', 'silent');
      const sut = await loadMasterKeyring(
        { MASTER_KEY: current.key, MASTER_KEY_PREVIOUS: previous.key, DATA_DIR: dataDir },
        logger,
      );
      expect([sut.current, sut.previous]).toEqual([current, previous]);
      expect(
        (await loadMasterKeyring({ MASTER_KEY: current.key, MASTER_KEY_PREVIOUS: null, DATA_DIR: dataDir }, logger)).all,
      ).toEqual([current]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
