import { Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import type { commonApi } from '@cloudstore/contracts';
import { InternalClients } from '../internal-clients/internal-clients';

export interface SigningKeyRotationView {
  /** The key that signs from now on. */
  key_id: string;
  created_at: number;
  /** The keys before it: each verifies the tokens it signed until `verify_until` (Unix seconds). */
  retiring: { key_id: string; verify_until: number }[];
}

/** Token signing key rotation; auth owns the keys and checks the caller's admin role from its database. */
@Injectable()
export class SigningKeysAdminService {
  constructor(private readonly clients: InternalClients) {}

  async rotate(caller: Caller, origin: commonApi.RequestOrigin): Promise<SigningKeyRotationView> {
    const rotation = await this.clients.userAdmin.call('rotateSigningKey', { caller, origin });
    return {
      key_id: rotation.keyId,
      created_at: rotation.createdAt,
      retiring: rotation.retiring.map((k) => ({ key_id: k.keyId, verify_until: k.verifyUntil })),
    };
  }
}
