import type { Metadata } from '@grpc/grpc-js';
import type { filesApi } from '@cloudstore/contracts';
import { verifiedUser } from '@cloudstore/grpc';

/**
 * The owner a file call is about: the user of the access token the call carries, verified by the
 * guard. The request's own `owner` / `owner_id` fields stay in the proto but are not read.
 */
export function verifiedOwner(metadata: Metadata | undefined): filesApi.Owner {
  const user = verifiedUser(metadata);
  return { userId: user.userId, role: user.role, username: user.username };
}
