import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { FileNotFoundError, type filesApi, PermissionDeniedError } from '@cloudstore/contracts';
import type { DataSource } from 'typeorm';
import type { FileEntity } from '../files/file.entity';
import { FilesRepository } from '../files/files.repository';
import { type StoredUserKey, UserKeysRepository } from './user-keys.repository';

/** How a file's data key is wrapped, as a download plan carries it to the gateway. */
export type DataKeyOfFile = Pick<filesApi.DownloadPlan, 'wrappedDataKey' | 'masterKeyId' | 'userKey' | 'wrappedByUserKey'>;

/**
 * Users' keys, which wrap the data keys of their files: made on first need from a key the
 * gateway proposes (already wrapped: this service never holds a key in the clear), handed out
 * with upload and download plans, and destroyed to crypto-shred a user's files.
 */
@Injectable()
export class UserKeysService {
  constructor(
    private readonly keys: UserKeysRepository,
    private readonly files: FilesRepository,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** The owner's key, stored from `proposed` when the owner has none; none when nothing was proposed. */
  async forUpload(ownerId: string, proposed: filesApi.UserKey | undefined): Promise<filesApi.UserKey | undefined> {
    if (!proposed) return undefined;
    const stored = await this.keys.ensure({
      userId: ownerId,
      wrappedKey: Buffer.from(proposed.wrappedKey),
      masterKeyId: proposed.masterKeyId,
    });
    if (stored === 'destroyed') throw new PermissionDeniedError('This account is being erased');
    return userKey(stored);
  }

  /** What the gateway needs to unwrap the file's data key; FILE_NOT_FOUND when its key was destroyed. */
  async ofFile(file: FileEntity): Promise<DataKeyOfFile> {
    const owners = file.wrappedByUserKey ? await this.keys.find(file.ownerId) : undefined;
    if (file.chunkOverhead > 0 && (!file.wrappedDataKey || (file.wrappedByUserKey && !owners)))
      throw new FileNotFoundError('The file can no longer be read: its key was destroyed');
    return {
      wrappedDataKey: file.wrappedDataKey ?? Buffer.alloc(0),
      masterKeyId: file.masterKeyId ?? '',
      userKey: owners && userKey(owners),
      wrappedByUserKey: file.wrappedByUserKey,
    };
  }

  /**
   * Crypto-shredding: the user's key goes, and with it every data key it wraps; data keys still
   * wrapped by the master key directly (files not yet re-wrapped since before user keys) are
   * wiped in the same transaction, so nothing the system holds opens the user's chunks again.
   */
  destroy(userId: string): Promise<filesApi.DestroyUserKeyResponse> {
    return this.dataSource.transaction(async (manager) => ({
      destroyed: await this.keys.destroy(userId, manager),
      wipedDataKeys: await this.files.wipeMasterWrappedDataKeys(userId, manager),
    }));
  }
}

function userKey(stored: StoredUserKey): filesApi.UserKey {
  return { userId: stored.userId, wrappedKey: stored.wrappedKey, masterKeyId: stored.masterKeyId };
}
