// Who is calling, as the domain sees it. Built by http/auth.ts; no HTTP types in here.
import type { Scope, ServiceRole } from './roles.ts';

export interface UserActor {
  type: 'user';
  userId: number;
  login: string;
  isSiteAdmin: boolean;
  /** What GET /v1/user shows, read with the credential so that answering needs no second query. */
  profile: { name: string | null; email: string | null; createdAt: string };
  credential: { kind: 'api_key'; keyId: number; scopes: Scope[] | null } | { kind: 'session' };
}

export interface ServiceActor {
  type: 'service';
  keyId: number;
  keyName: string;
  accountId: number;
  accountName: string;
  role: ServiceRole;
  scopes: Scope[] | null;
}

export type Actor = UserActor | ServiceActor;

/** What every service call that changes something receives: the actor plus the request's origin, for audit. */
export interface RequestContext {
  actor: Actor;
  remoteAddr: string | null;
  userAgent: string | null;
}

/** The scopes the actor's credential holds; null means unrestricted. */
export const actorScopes = (actor: Actor): Scope[] | null => (actor.type === 'service' ? actor.scopes : actor.credential.kind === 'api_key' ? actor.credential.scopes : null);
