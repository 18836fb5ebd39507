import { Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import { type commonApi, type filesApi, InvalidArgumentError, type publicApi } from '@cloudstore/contracts';
import { InternalClients } from '../internal-clients/internal-clients';

/** What an erasure answers. */
export interface ErasureResult {
  readonly user_id: string;
  /** The id the user's audit events now carry. */
  readonly pseudonym: string;
  /** Live files and files in the trash erased. */
  readonly files_erased: number;
}

function erasureResult(erased: filesApi.EraseUserDataResponse): ErasureResult {
  return { user_id: erased.userId, pseudonym: erased.pseudonym, files_erased: erased.filesErased };
}

/** An erasure as the public gRPC API answers it. */
export function erasureResponse(erased: ErasureResult): publicApi.DeleteAccountResponse {
  return { success: true, userId: erased.user_id, pseudonym: erased.pseudonym, filesErased: erased.files_erased };
}

/**
 * GDPR erasure, in an order that a failure at any step leaves safe to run again: the password
 * (or the admin) is checked; the metadata service erases the user's data (key first: from then
 * on no copy of any file is readable) and pseudonymises the audit log; auth deletes the account,
 * which ends every token. Cut short after the data, the account still signs in and the user (or
 * an admin) erases it again.
 */
@Injectable()
export class AccountErasureService {
  constructor(private readonly clients: InternalClients) {}

  async eraseOwn(caller: Caller, password: string, origin: commonApi.RequestOrigin): Promise<ErasureResult> {
    await this.clients.auth.call('confirmAccountErasure', { caller, password, origin });
    const erased = await this.clients.files.call('eraseUserData', { userId: '', username: '', origin });
    await this.clients.auth.call('deleteAccount', { caller, origin });
    return erasureResult(erased);
  }

  /** Another account, by an admin; NOT_FOUND for an unknown one, the admin's own refused. */
  async eraseByAdmin(caller: Caller, userId: string, origin: commonApi.RequestOrigin): Promise<ErasureResult> {
    const user = await this.clients.userAdmin.call('getUser', { caller, userId });
    if (user.userId === caller.userId) throw new InvalidArgumentError('Admins erase their own account with DELETE /v1/me');
    const erased = await this.clients.files.call('eraseUserData', { userId: user.userId, username: user.username, origin });
    await this.clients.userAdmin.call('deleteUser', { caller, userId: user.userId, origin });
    return erasureResult(erased);
  }
}
