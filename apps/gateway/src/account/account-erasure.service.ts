import { Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import { type commonApi, type filesApi, InvalidArgumentError, type publicApi } from '@cloudstore/contracts';
import { InternalClients } from '../internal-clients/internal-clients';
import type { ErasureResultDto } from './account.dto';

/**
 * The data's erasure is one transaction over everything of the user; a user with very many
 * files takes longer than an ordinary call may.
 */
const ERASE_DATA_TIMEOUT_MS = 120_000;

function erasureResult(erased: filesApi.EraseUserDataResponse): ErasureResultDto {
  return { success: true, user_id: erased.userId, pseudonym: erased.pseudonym, files_erased: erased.filesErased };
}

/** An erasure as the public gRPC API answers it. */
export function erasureResponse(erased: ErasureResultDto): publicApi.DeleteAccountResponse {
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

  async eraseOwn(caller: Caller, password: string, origin: commonApi.RequestOrigin): Promise<ErasureResultDto> {
    await this.clients.auth.call('confirmAccountErasure', { caller, password, origin });
    const erased = await this.clients.files.call(
      'eraseUserData',
      { userId: '', username: '', origin },
      { timeoutMs: ERASE_DATA_TIMEOUT_MS },
    );
    await this.clients.auth.call('deleteAccount', { caller });
    return erasureResult(erased);
  }

  /** Another account, by an admin; NOT_FOUND for an unknown one, the admin's own refused. */
  async eraseByAdmin(caller: Caller, userId: string, origin: commonApi.RequestOrigin): Promise<ErasureResultDto> {
    const user = await this.clients.userAdmin.call('getUser', { caller, userId });
    if (user.userId === caller.userId) throw new InvalidArgumentError('Admins erase their own account with DELETE /v1/me');
    const erased = await this.clients.files.call(
      'eraseUserData',
      { userId: user.userId, username: user.username, origin },
      { timeoutMs: ERASE_DATA_TIMEOUT_MS },
    );
    await this.clients.userAdmin.call('deleteUser', { caller, userId: user.userId });
    return erasureResult(erased);
  }
}
