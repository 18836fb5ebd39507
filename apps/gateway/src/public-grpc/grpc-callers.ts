import type { Metadata } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import type { commonApi } from '@cloudstore/contracts';
import { RequestAuthenticator } from '../auth/request-authenticator';
import { RequestOrigins } from '../auth/request-origins';

/**
 * Who is calling a public RPC, for every gRPC controller of the gateway: the verified caller (from
 * the request's `auth_token` or the `authorization` metadata) and where the call comes from.
 */
export interface AuthorizedCall {
  readonly caller: Caller;
  readonly origin: commonApi.RequestOrigin;
}

@Injectable()
export class GrpcCallers {
  constructor(
    private readonly authenticator: RequestAuthenticator,
    private readonly origins: RequestOrigins,
  ) {}

  user(request: { readonly authToken: string }, metadata: Metadata): Promise<Caller> {
    return this.authenticator.fromGrpc(request.authToken, metadata);
  }

  admin(request: { readonly authToken: string }, metadata: Metadata): Promise<Caller> {
    return this.authenticator.adminFromGrpc(request.authToken, metadata);
  }

  /** The verified caller and where the call comes from, for an RPC that acts for a user. */
  async userCall(
    request: { readonly authToken: string },
    metadata: Metadata,
    call: { getPeer(): string },
  ): Promise<AuthorizedCall> {
    return { caller: await this.user(request, metadata), origin: this.origin(call, metadata) };
  }

  origin(call: { getPeer(): string }, metadata: Metadata): commonApi.RequestOrigin {
    return this.origins.grpc(call, metadata);
  }
}
