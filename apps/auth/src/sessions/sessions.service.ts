import { Injectable } from '@nestjs/common';
import type { Caller } from '@cloudstore/access-tokens';
import { NotFoundError } from '@cloudstore/contracts';
import { AuditTrail, type Origin } from '../audit/audit-trail.service';
import { TokenIssuer } from '../tokens/token-issuer.service';
import type { SignInEntity } from './sign-in.entity';
import { SignInsRepository } from './sign-ins.repository';

export type SessionView = SignInEntity & { readonly current: boolean };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A user's own sign-ins: the list, ending one, ending all. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly signIns: SignInsRepository,
    private readonly tokens: TokenIssuer,
    private readonly audit: AuditTrail,
  ) {}

  /** The caller's live sign-ins, newest first; `current` marks the caller's own. */
  async list(caller: Caller): Promise<SessionView[]> {
    const signIns = await this.signIns.listActive(caller.userId);
    return signIns.map((s) => ({ ...s, current: s.id === caller.familyId }));
  }

  /** Ends one of the caller's sign-ins; another user's is answered as an unknown one (NOT_FOUND). */
  async revoke(caller: Caller, sessionId: string, origin: Origin): Promise<void> {
    if (!UUID.test(sessionId) || !(await this.tokens.revokeSignIn(caller.userId, sessionId.toLowerCase()))) {
      throw new NotFoundError('No such session');
    }
    await this.audit.record({
      operation: 'auth.session_revoke',
      status: 'success',
      userId: caller.userId,
      username: caller.username,
      origin,
      details: { sessionId: sessionId.toLowerCase(), current: sessionId.toLowerCase() === caller.familyId },
    });
  }

  /** Every sign-in of the caller ends, this one too. */
  async logoutAll(caller: Caller, origin: Origin): Promise<void> {
    const ended = await this.tokens.revokeAllOfUser(caller.userId);
    await this.audit.record({
      operation: 'auth.logout_all',
      status: 'success',
      userId: caller.userId,
      username: caller.username,
      origin,
      details: { sessionsEnded: ended },
    });
  }
}
