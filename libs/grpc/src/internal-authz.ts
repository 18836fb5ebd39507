import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { bearerToken, type Caller } from '@cloudstore/access-tokens';
import { PermissionDeniedError, TokenInvalidError } from '@cloudstore/contracts';
import { AUTHORIZATION_HEADER } from './grpc-client';
import { callMetadata } from './grpc-context.interceptor';
import { callerIdentity, IDENTITY_PREFIX, type InternalTransport } from './tls/internal-transport';

/**
 * The kinds of cloudstore services, as their certificates name them (`spiffe://cloudstore/<name>`):
 * `gateway`, `auth` and `metadata` by name; any other name is a storage node's id.
 */
export type ServiceKind = 'gateway' | 'auth' | 'metadata' | 'storage-node';

const NAMED_SERVICES: readonly string[] = ['gateway', 'auth', 'metadata'] satisfies ServiceKind[];

/** The kind of service an identity (a SAN URI) names, or undefined when it names none. */
export function serviceKindOf(identity: string | undefined): ServiceKind | undefined {
  if (!identity?.startsWith(IDENTITY_PREFIX) || identity.length === IDENTITY_PREFIX.length) return undefined;
  const name = identity.slice(IDENTITY_PREFIX.length);
  return NAMED_SERVICES.includes(name) ? (name as ServiceKind) : 'storage-node';
}

const ALLOWED_CALLERS = 'cloudstore:allowed-callers';
const USER_TOKEN_RULE = 'cloudstore:user-token';

/**
 * The services that may call this RPC handler, checked against the caller's certificate by
 * InternalCallGuard; any other caller gets PERMISSION_DENIED. Every handler of an internal
 * service declares it: a handler without it is refused to everyone.
 */
export function AllowedCallers(...callers: [ServiceKind, ...ServiceKind[]]): MethodDecorator {
  return (_target, _key, descriptor) => {
    Reflect.defineMetadata(ALLOWED_CALLERS, callers, descriptor.value as object);
    return descriptor;
  };
}

export interface UserTokenRule {
  /** The role the user's token must carry (admin RPCs). */
  readonly role?: 'admin';
  /**
   * The call continues an upload or a download begun with a valid token, and may outlast it:
   * the token may have expired or been renewed since, as long as its sign-in and its user were
   * not revoked (see AccessTokenVerifier's `continuation`).
   */
  readonly continuation?: boolean;
}

/**
 * This RPC acts for a user: the call must carry the user's access token (`authorization: Bearer`
 * metadata, forwarded by the gateway), which InternalCallGuard verifies here. The handler takes
 * the user from `verifiedUser(metadata)`, never from the request's fields.
 */
export function ForUser(rule: UserTokenRule = {}): MethodDecorator {
  return (_target, _key, descriptor) => {
    Reflect.defineMetadata(USER_TOKEN_RULE, rule, descriptor.value as object);
    return descriptor;
  };
}

/** Verifies a user's access token (an AccessTokenVerifier). */
export interface UserTokenVerifier {
  verify(token: string, options?: { readonly continuation?: boolean }): Promise<Caller>;
}

const verifiedUsers = new WeakMap<Metadata, Caller>();

/** The user an @ForUser handler acts for, from the token InternalCallGuard verified for this call. */
export function verifiedUser(metadata: Metadata | undefined): Caller {
  const user = metadata && verifiedUsers.get(metadata);
  // A handler without @ForUser: a programming error, not the caller's.
  if (!user) throw new Error('verifiedUser() read in a handler without @ForUser');
  return user;
}

/**
 * The one guard of every internal gRPC server: the caller's certificate must name a service the
 * handler's @AllowedCallers lists, and an @ForUser handler needs a valid access token of the user
 * (of the role it names). grpc.health.v1 is served outside Nest, open to every peer that has a
 * certificate. With INTERNAL_TLS=off there is no identity: every caller passes the first check
 * (the start warns of it), while user tokens are still verified.
 */
export class InternalCallGuard implements CanActivate {
  constructor(
    private readonly transport: InternalTransport,
    private readonly userTokens?: UserTokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const handler = context.getHandler();
    const method = `${context.getClass().name}.${handler.name}`;
    const allowed = Reflect.getMetadata(ALLOWED_CALLERS, handler) as readonly ServiceKind[] | undefined;
    if (!allowed) throw new PermissionDeniedError(`${method} has no allowed callers`);
    if (this.transport.secure) {
      const identity = callerIdentity(context.getArgs<unknown[]>().find(isGrpcCall));
      const kind = serviceKindOf(identity);
      if (!kind || !allowed.includes(kind)) {
        throw new PermissionDeniedError(`${identity ?? 'An unnamed caller'} may not call ${method}`);
      }
    }
    const rule = Reflect.getMetadata(USER_TOKEN_RULE, handler) as UserTokenRule | undefined;
    if (rule) await this.verifyUser(context, rule, method);
    return true;
  }

  private async verifyUser(context: ExecutionContext, rule: UserTokenRule, method: string): Promise<void> {
    if (!this.userTokens) throw new Error(`${method} acts for a user, but this server verifies no user tokens`);
    const metadata = callMetadata(context);
    const header = metadata?.get(AUTHORIZATION_HEADER)[0];
    const token = bearerToken(typeof header === 'string' ? header : undefined);
    if (!metadata || !token) throw new TokenInvalidError(`${method} needs the user's access token`);
    const user = await this.userTokens.verify(token, { continuation: rule.continuation === true });
    if (rule.role && user.role !== rule.role) throw new PermissionDeniedError('Only admins may do this');
    verifiedUsers.set(metadata, user);
  }
}

/** grpc-js's server call, whatever shape the handler was given (unary, stream, pass-through). */
function isGrpcCall(arg: unknown): boolean {
  return typeof (arg as { getAuthContext?: unknown } | undefined)?.getAuthContext === 'function';
}
