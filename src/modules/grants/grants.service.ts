// Grants (README: grants): given and revoked by the user, in the user's settings, one at a time.
// Revoking lists the keys made under the grant and, only if asked, removes them in the same
// transaction.
import type { Db, Executor } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import { AppError } from '../../errors.ts';
import type { Actor, RequestContext, UserActor } from '../access/actor.ts';
import { requireUnrestricted, requireUser } from '../access/access.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { UserKeyRemoval } from '../checkout-keys/checkout-keys.service.ts';
import { grantCatalogue, grantScopes, grantUrl, isGrantScope, type GrantScope } from './grants.catalogue.ts';
import * as repo from './grants.repo.ts';

interface Deps {
  db: Db;
  /** The keys made under a grant; late-bound in services.ts (checkout keys also ask grants.require). */
  checkoutKeys: UserKeyRemoval;
  audit: AuditService;
  clock: { now(): Date };
  publicUrl: string;
}

export function createGrantService({ db, checkoutKeys, audit, clock, publicUrl }: Deps) {
  // User checkout keys are what write:public_key allows; a grant of another kind makes none of them.
  const rowsMadeUnder = async (trx: Executor, scope: GrantScope, userId: number) => (scope === 'write:public_key' ? checkoutKeys.listUserKeys(trx, userId) : []);

  function owner(actor: Actor): UserActor {
    const user = requireUser(actor, 'Grants');
    requireUnrestricted(user, 'changing grants');
    return user;
  }

  function scopeOf(value: string): GrantScope {
    if (!isGrantScope(value)) {
      throw new AppError('not_found', `There is no grant called "${value.slice(0, 64)}"; the grants are: ${grantScopes.join(', ')}.`);
    }
    return value;
  }

  return {
    /** Each grant, whether it is given, and the keys made under it (so revoking can offer to remove them). */
    async list(ctx: RequestContext) {
      const user = owner(ctx.actor);
      const given = new Map((await repo.listGrants(db, user.userId)).map((g) => [g.scope, g.created_at]));
      return Promise.all(
        grantScopes.map(async (scope) => ({
          scope,
          ...grantCatalogue[scope],
          granted: given.has(scope),
          grantedAt: given.get(scope) ?? null,
          keys: await rowsMadeUnder(db, scope, user.userId),
        })),
      );
    },

    /** Idempotent: giving a grant twice keeps the first date and records one event. */
    async give(ctx: RequestContext, value: string) {
      const user = owner(ctx.actor);
      const scope = scopeOf(value);
      try {
        return await db.transaction().execute(async (trx) => {
          const existing = await repo.findGrant(trx, user.userId, scope);
          if (existing) return { scope, ...grantCatalogue[scope], granted: true, grantedAt: existing.created_at };
          const now = clock.now().toISOString();
          await repo.insertGrant(trx, { user_id: user.userId, scope, created_at: now });
          await audit.record(trx, ctx, { action: 'grant.give', target: { type: 'grant', id: scope, label: user.login } });
          return { scope, ...grantCatalogue[scope], granted: true, grantedAt: now };
        });
      } catch (err) {
        // Given twice at the same moment: the other request won; report its grant.
        const existing = isUniqueViolation(err) ? await repo.findGrant(db, user.userId, scope) : undefined;
        if (!existing) throw err;
        return { scope, ...grantCatalogue[scope], granted: true, grantedAt: existing.created_at };
      }
    },

    /** Revokes one grant; touches nothing else unless removeKeys, which removes the keys made under it. */
    async revoke(ctx: RequestContext, value: string, removeKeys: boolean) {
      const user = owner(ctx.actor);
      const scope = scopeOf(value);
      return db.transaction().execute(async (trx) => {
        const made = await rowsMadeUnder(trx, scope, user.userId);
        await repo.deleteGrant(trx, user.userId, scope);
        if (removeKeys) {
          await checkoutKeys.removeKeys(trx, ctx, made, 'grant revoked');
        }
        await audit.record(trx, ctx, { action: 'grant.revoke', target: { type: 'grant', id: scope, label: user.login }, details: { keys: made.length, removed_keys: removeKeys } });
        return { scope, granted: false as const, keys: made, removedKeys: removeKeys };
      });
    },

    /**
     * Throws grant_required, with the way to give it, unless the user holds the grant. `project` is the
     * slug of the project whose request needs it: the grant_url names it, so the page can say who asked.
     */
    async require(trx: Executor, user: UserActor, scope: GrantScope, doing: string, project?: string): Promise<void> {
      if (await repo.findGrant(trx, user.userId, scope)) return;
      const url = grantUrl(publicUrl, scope, project);
      throw new AppError(
        'grant_required',
        `${doing} puts an SSH key on your own account, which needs your ${scope} grant ("${grantCatalogue[scope].title.toLowerCase()}"): give it at ${url} or with PUT /v1/user/grants/${scope}, and revoke it there on its own whenever you like.`,
        `Open ${url}, or call PUT ${publicUrl}/v1/user/grants/${scope}.`,
        { extra: { grant: scope, grant_url: url, allows: grantCatalogue[scope].allows, ...(project === undefined ? {} : { project }) } },
      );
    },
  };
}

export type GrantService = ReturnType<typeof createGrantService>;
