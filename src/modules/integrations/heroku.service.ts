// A user's Heroku API key (README: the CircleCI-compatible key APIs): stored sealed, shown only as its last four characters.
import { masterKeyIdsIn, seal, SEALED_KEY_PREFIX_LENGTH, type KeyRing } from '../../crypto/envelope.ts';
import type { Db } from '../../db/schema.ts';
import type { SealedValues } from '../master-key/sealed-values.ts';
import { AppError } from '../../errors.ts';
import { requireUnrestricted, requireUser } from '../access/access.service.ts';
import type { Actor, RequestContext, UserActor } from '../access/actor.ts';
import type { AuditService } from '../audit/audit.service.ts';
import * as repo from './heroku.repo.ts';

export const herokuKeyAad = (userId: number): string => `heroku_key:${userId}`;
const HEROKU_KEY = /^[A-Za-z0-9_-]{8,128}$/;

/** The stored Heroku keys (one per user, keyed by user id), for master-key rotation. */
export function herokuSealedValues(db: Db): SealedValues {
  return {
    listSealed: async () => (await repo.listAllSealed(db)).map((r) => ({ id: r.user_id, sealed: r.sealed, aad: herokuKeyAad(r.user_id) })),
    findSealed: async (userId) => (await repo.findSealed(db, userId))?.sealed,
    replaceSealed: (userId, before, after) => repo.replaceSealed(db, userId, before, after),
    masterKeyIds: async () => masterKeyIdsIn(await repo.distinctSealedPrefixes(db, SEALED_KEY_PREFIX_LENGTH)),
  };
}

export function createHerokuService({ db, ring, audit, clock }: { db: Db; ring: KeyRing; audit: AuditService; clock: { now(): Date } }) {
  function owner(actor: Actor): UserActor {
    const user = requireUser(actor, 'A Heroku key', 'belongs to a person');
    requireUnrestricted(user, 'your Heroku key');
    return user;
  }

  return {
    async status(ctx: RequestContext) {
      const row = await repo.findHerokuKey(db, owner(ctx.actor).userId);
      return { configured: row !== undefined, last4: row?.last4 ?? null };
    },

    async set(ctx: RequestContext, apikey: string) {
      const user = owner(ctx.actor);
      const key = apikey.trim();
      if (!HEROKU_KEY.test(key)) {
        throw new AppError('validation_failed', 'The apikey field must be a Heroku API key: 8 to 128 letters, digits, hyphens or underscores (see heroku auth:token).', undefined, { field: 'apikey' });
      }
      const sealed = seal(ring, key, herokuKeyAad(user.userId));
      await db.transaction().execute(async (trx) => {
        await repo.putHerokuKey(trx, { user_id: user.userId, sealed, last4: key.slice(-4), created_at: clock.now().toISOString() });
        await audit.record(trx, ctx, { action: 'heroku_key.set', target: { type: 'user', id: user.userId, label: user.login } });
      });
      return { configured: true, last4: key.slice(-4) };
    },

    async remove(ctx: RequestContext) {
      const user = owner(ctx.actor);
      await db.transaction().execute(async (trx) => {
        if (await repo.deleteHerokuKey(trx, user.userId)) {
          await audit.record(trx, ctx, { action: 'heroku_key.delete', target: { type: 'user', id: user.userId, label: user.login } });
        }
      });
      return { configured: false, last4: null };
    },
  };
}

export type HerokuService = ReturnType<typeof createHerokuService>;
