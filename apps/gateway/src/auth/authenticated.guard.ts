import { type CanActivate, createParamDecorator, type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { bearerToken, type Caller } from '@cloudstore/access-tokens';
import { PermissionDeniedError } from '@cloudstore/contracts';
import type { Request } from 'express';
import { RequestAuthenticator } from './request-authenticator';

const ROLES_KEY = 'cloudstore:roles';

/** Restricts a route to callers with one of these roles (checked from the verified token). */
export const Roles = (...roles: string[]) => SetMetadata(ROLES_KEY, roles);

type AuthenticatedRequest = Request & { caller?: Caller };

/** The verified caller of a REST route guarded by AuthenticatedGuard. */
export const CurrentCaller = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) throw new Error('CurrentCaller used on a route without AuthenticatedGuard');
  return caller;
});

/** REST routes that need a valid access token, and a role where @Roles says so. */
@Injectable()
export class AuthenticatedGuard implements CanActivate {
  constructor(
    private readonly authenticator: RequestAuthenticator,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    req.caller = await this.authenticator.authenticate(bearerToken(req.header('authorization')));
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [context.getHandler(), context.getClass()]);
    if (roles && !roles.includes(req.caller.role)) throw new PermissionDeniedError(`This needs the role ${roles.join(' or ')}`);
    return true;
  }
}
