import { Injectable } from '@nestjs/common';
import { FileNotFoundError, type filesApi, PermissionDeniedError } from '@cloudstore/contracts';
import type { FileEntity } from '../files/file.entity';
import { type StoredUserKey, UserKeysRepository } from './user-keys.repository';

/** How a file's data key is wrapped, as a download plan carries it to the gateway. */
export type DataKeyOfFile = Pick<filesApi.DownloadPlan, 'wrappedDataKey' | 'masterKeyId' | 'userKey' | 'wrappedByUserKey'>;

/**
 * Users' keys, which wrap the data keys of their files: made on first need from a key the
 * gateway proposes (already wrapped: this service never holds a key in the clear), and handed out
 * with upload and download plans. An erasure deletes them (UserErasureService).
 */
@Injectable()
export class UserKeysService {
  constructor(private readonly keys: UserKeysRepository) {}

  /** The owner's key, stored from `proposed` when the owner has none; none when nothing was proposed. */
  async forUpload(ownerId: string, proposed: filesApi.UserKey | undefined): Promise<filesApi.UserKey | undefined> {
    if (!proposed) return undefined;
    const stored = await this.keys.ensure({
      userId: ownerId,
      wrappedKey: Buffer.from(proposed.wrappedKey),
      masterKeyId: proposed.masterKeyId,
    });
    if (stored === 'erased') throw new PermissionDeniedError('This account is being erased');
    return userKey(stored);
  }

  /** The owner's key, which a resumable upload's data key is wrapped by; FILE_NOT_FOUND when there is none (any more). */
  async ofOwner(ownerId: string): Promise<filesApi.UserKey> {
    const stored = await this.keys.find(ownerId);
    if (!stored) throw new FileNotFoundError('The upload can no longer be continued: its key was destroyed');
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
}

function userKey(stored: StoredUserKey): filesApi.UserKey {
  return { userId: stored.userId, wrappedKey: stored.wrappedKey, masterKeyId: stored.masterKeyId };
}
