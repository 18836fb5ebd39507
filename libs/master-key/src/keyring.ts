import type { Logger } from '@cloudstore/observability';
import { loadMasterKey, type MasterKey, masterKey } from './master-key';
import { UnknownMasterKeyError } from './secret-box';

/**
 * The master keys a process knows: the current one, which wraps and seals everything new, and
 * during a rotation the previous one (MASTER_KEY_PREVIOUS), accepted only to open what it wrapped.
 * Each wrapped value records the id of the key that wrapped it, so the right one is picked.
 */
export class MasterKeyring {
  private readonly byId: ReadonlyMap<string, MasterKey>;

  constructor(
    readonly current: MasterKey,
    readonly previous?: MasterKey,
  ) {
    this.byId = new Map([current, ...(previous ? [previous] : [])].map((key) => [key.id, key]));
  }

  /** Every key, current first. */
  get all(): MasterKey[] {
    return [...this.byId.values()];
  }

  /** The key of this id; UnknownMasterKeyError naming `what` when this process has no such key. */
  get(id: string, what: string): MasterKey {
    const key = this.byId.get(id);
    if (!key)
      throw new UnknownMasterKeyError(
        `${what} was wrapped under master key ${id}, this service has ${[...this.byId.keys()].join(' and ')}`,
      );
    return key;
  }
}

/** MASTER_KEY (or DATA_DIR/master.key, see loadMasterKey) as the current key, and MASTER_KEY_PREVIOUS when set. */
export async function loadMasterKeyring(
  config: { MASTER_KEY: Buffer | null; MASTER_KEY_PREVIOUS: Buffer | null; DATA_DIR: string },
  logger: Logger,
): Promise<MasterKeyring> {
  const current = await loadMasterKey(config, logger);
  return new MasterKeyring(current, config.MASTER_KEY_PREVIOUS ? masterKey(config.MASTER_KEY_PREVIOUS) : undefined);
}
