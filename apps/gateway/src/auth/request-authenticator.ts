import type { Metadata } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { AccessTokenVerifier, bearerToken, type Caller } from '@cloudstore/access-tokens';
import { PermissionDeniedError, TokenInvalidError } from '@cloudstore/contracts';
import { setRequestAccessToken } from '@cloudstore/observability';

/**
 * Turns the token of a request into its verified caller: from the REST Authorization header, or
 * for gRPC from the request's `auth_token` field or the `authorization` metadata. The verified
 * token then goes with every internal call the request makes, for auth and metadata to verify.
 */
@Injectable()
export class RequestAuthenticator {
  constructor(private readonly verifier: AccessTokenVerifier) {}

  async authenticate(token: string | undefined): Promise<Caller> {
    if (!token) throw new TokenInvalidError('An access token is required: Authorization: Bearer <token>');
    const caller = await this.verifier.verify(token);
    setRequestAccessToken(token);
    return caller;
  }

  fromGrpc(authToken: string | undefined, metadata: Metadata | undefined): Promise<Caller> {
    const header = metadata?.get('authorization')[0];
    return this.authenticate(authToken || bearerToken(typeof header === 'string' ? header : undefined));
  }

  /** The caller of a gRPC admin RPC: a valid token of a user with role admin. */
  async adminFromGrpc(authToken: string | undefined, metadata: Metadata | undefined): Promise<Caller> {
    const caller = await this.fromGrpc(authToken, metadata);
    if (caller.role !== 'admin') throw new PermissionDeniedError('Only admins may do this');
    return caller;
  }
}
