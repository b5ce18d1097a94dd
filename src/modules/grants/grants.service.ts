// Grants (README: grants): given and revoked by the user, in the user's settings, one at a time.
// Revoking lists the keys made under the grant and, only if asked, removes them in the same
// transaction.
import type { Db, Executor } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import { AppError } from '../../errors.ts';
import type { Actor, RequestContext, UserActor } from '../access/actor.ts';
import { requireUnrestricted, requireUser } from '../access/access.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import * as checkoutRepo from '../checkout-keys/checkout-keys.repo.ts';
import { grantCatalogue, grantScopes, grantUrl, isGrantScope, type GrantScope } from './grants.catalogue.ts';
import * as repo from './grants.repo.ts';

// User checkout keys are what write:public_key allows; a grant of another kind makes none of them.
const rowsMadeUnder = async (db: Executor, scope: GrantScope, userId: number) => (scope === 'write:public_key' ? checkoutRepo.listUserKeysOf(db, userId) : []);
const madeKeys = (made: checkoutRepo.UserCheckoutKeyRow[]) =>
  made.map((k) => ({ fingerprint: k.fingerprint_md5, fingerprint_sha256: k.fingerprint_sha256, project: `${k.vcs}/${k.account_name}/${k.project_name}`, ssh_key_id: k.ssh_key_id }));

export function createGrantService({ db, audit, clock, publicUrl }: { db: Db; audit: AuditService; clock: { now(): Date }; publicUrl: string }) {
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
          granted_at: given.get(scope) ?? null,
          keys: madeKeys(await rowsMadeUnder(db, scope, user.userId)),
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
          if (existing) return { scope, ...grantCatalogue[scope], granted: true, granted_at: existing.created_at };
          const now = clock.now().toISOString();
          await repo.insertGrant(trx, { user_id: user.userId, scope, created_at: now });
          await audit.record(trx, ctx, { action: 'grant.give', target: { type: 'grant', id: scope, label: user.login } });
          return { scope, ...grantCatalogue[scope], granted: true, granted_at: now };
        });
      } catch (err) {
        // Given twice at the same moment: the other request won; report its grant.
        const existing = isUniqueViolation(err) ? await repo.findGrant(db, user.userId, scope) : undefined;
        if (!existing) throw err;
        return { scope, ...grantCatalogue[scope], granted: true, granted_at: existing.created_at };
      }
    },

    /** Revokes one grant; touches nothing else unless removeKeys, which removes the keys made under it. */
    async revoke(ctx: RequestContext, value: string, removeKeys: boolean) {
      const user = owner(ctx.actor);
      const scope = scopeOf(value);
      return db.transaction().execute(async (trx) => {
        const made = await rowsMadeUnder(trx, scope, user.userId);
        const keys = madeKeys(made);
        await repo.deleteGrant(trx, user.userId, scope);
        if (removeKeys) {
          await checkoutRepo.deleteSshKeys(trx, made.map((k) => k.ssh_key_id));
          await audit.recordMany(
            trx,
            ctx,
            made.map((k) => ({ action: 'checkout_key.delete' as const, accountId: k.account_id, target: { type: 'checkout_key', id: k.id, label: `${k.vcs}/${k.account_name}/${k.project_name}` }, details: { fingerprint: k.fingerprint_md5, reason: 'grant revoked' } })),
          );
        }
        await audit.record(trx, ctx, { action: 'grant.revoke', target: { type: 'grant', id: scope, label: user.login }, details: { keys: keys.length, removed_keys: removeKeys } });
        return { scope, granted: false as const, keys, removed_keys: removeKeys };
      });
    },

    /** Throws grant_required, with the way to give it, unless the user holds the grant. */
    async require(trx: Executor, user: UserActor, scope: GrantScope, doing: string): Promise<void> {
      if (await repo.findGrant(trx, user.userId, scope)) return;
      const url = grantUrl(publicUrl, scope);
      throw new AppError(
        'grant_required',
        `${doing} puts an SSH key on your own account, which needs your ${scope} grant ("${grantCatalogue[scope].title.toLowerCase()}"): give it at ${url} or with PUT /v1/user/grants/${scope}, and revoke it there on its own whenever you like.`,
        `Open ${url}, or call PUT ${publicUrl}/v1/user/grants/${scope}.`,
        { extra: { grant: scope, grant_url: url, allows: grantCatalogue[scope].allows } },
      );
    },
  };
}

export type GrantService = ReturnType<typeof createGrantService>;
