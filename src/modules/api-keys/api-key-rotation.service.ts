// API-key rotation with a grace period (README: Credential lifecycle → Rotation). A rotate makes a
// successor with the same name, role, scopes and project list, and marks the old key to stop
// working at the end of the grace; authenticate() reads that moment from the row, so no job ends it.
// A key is rotated once. A rotate sent with an Idempotency-Key keeps the new secret sealed for ten
// minutes, so a retry (a lost response, a double click, two racing requests) gets the same new key
// instead of a second one; the sweep job destroys it afterwards, and an expired row is never read.
import { createHash } from 'node:crypto';
import { masterKeyIdsIn, open, seal, SEALED_KEY_PREFIX_LENGTH, type KeyRing } from '../../crypto/envelope.ts';
import { mintToken } from '../../crypto/token.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import type { Db } from '../../db/schema.ts';
import { AppError, notFound } from '../../errors.ts';
import { requireUnrestricted, requireUser } from '../access/access.service.ts';
import type { AccessService, AccountSelector } from '../access/access.service.ts';
import type { RequestContext } from '../access/actor.ts';
import type { ServiceRole } from '../access/roles.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { SealedValues } from '../master-key/sealed-values.ts';
import type { PolicyGate } from '../policies/policies.service.ts';
import type { ApiKeyService } from './api-keys.service.ts';
import * as keys from './api-keys.repo.ts';
import * as repo from './api-key-rotation.repo.ts';
import type { CredentialInvalidation } from './credential-invalidation.ts';

export const MAX_GRACE_SECONDS = 604_800;
export const DEFAULT_GRACE_SECONDS = 86_400;
/** How long a rotate's answer can be replayed with its Idempotency-Key. */
export const REPLAY_WINDOW_MS = 10 * 60 * 1000;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export interface RotateInput {
  grace_seconds?: number;
  expires_at?: string | null;
}

export type RotateTarget = { kind: 'user'; id: number } | { kind: 'service'; selector: AccountSelector; id: number };

interface Deps {
  db: Db;
  ring: KeyRing;
  access: AccessService;
  policies: Pick<PolicyGate, 'admitApiKey'>;
  audit: AuditService;
  invalidation: Pick<CredentialInvalidation, 'forgetKey'>;
  view: ApiKeyService['view'];
  clock: { now(): Date };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
export const replayAad = (caller: string, idempotencyKeyHash: string) => `api_key_rotation_replay:${caller}:${idempotencyKeyHash}`;

/** The sealed replays, for master-key rotation and the start-up check. */
export function rotationReplaySealedValues(db: Db): SealedValues {
  return {
    listSealed: async () => (await repo.listAllSealed(db)).map((r) => ({ id: r.id, sealed: r.sealed, aad: replayAad(r.caller, r.idempotency_key_hash) })),
    findSealed: async (id) => (await repo.findSealed(db, id))?.sealed,
    replaceSealed: (id, before, after) => repo.replaceSealed(db, id, before, after),
    masterKeyIds: async () => masterKeyIdsIn(await repo.distinctSealedPrefixes(db, SEALED_KEY_PREFIX_LENGTH)),
  };
}

const alreadyRotated = (what: string, successor: { id: number; start: string } | undefined) =>
  new AppError(
    'already_rotated',
    successor
      ? `${what} has already been rotated: its successor is key ${successor.id}, which starts with ${successor.start}. A key is rotated only once.`
      : `${what} has already been rotated, and the key that replaced it has since been deleted. A key is rotated only once.`,
    successor ? `Use key ${successor.id}, or rotate that one for a fresh secret.` : 'Create a new key instead.',
  );

export function createApiKeyRotationService({ db, ring, access, policies, audit, invalidation, view, clock }: Deps) {
  function validate(input: RotateInput): { graceSeconds: number; expiresAt: string | null } {
    const graceSeconds = input.grace_seconds ?? DEFAULT_GRACE_SECONDS;
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_GRACE_SECONDS) {
      throw new AppError(
        'validation_failed',
        `The grace_seconds field must be a whole number of seconds from 0 to ${MAX_GRACE_SECONDS} (7 days); 0 ends the old key at once.`,
        `Leave it out for the default of ${DEFAULT_GRACE_SECONDS} seconds (one day).`,
        { field: 'grace_seconds' },
      );
    }
    let expiresAt: string | null = null;
    if (input.expires_at != null) {
      const when = new Date(input.expires_at);
      if (Number.isNaN(when.getTime())) {
        throw new AppError('validation_failed', 'The expires_at field must be a date-time such as 2027-01-31T00:00:00Z.', undefined, { field: 'expires_at' });
      }
      if (when <= clock.now()) throw new AppError('validation_failed', 'The expires_at field must be in the future.', undefined, { field: 'expires_at' });
      expiresAt = when.toISOString();
    }
    return { graceSeconds, expiresAt };
  }

  function checkIdempotencyKey(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    if (!IDEMPOTENCY_KEY.test(value)) {
      throw new AppError(
        'validation_failed',
        'The Idempotency-Key header must be 1 to 255 visible ASCII characters (no spaces), such as a UUID.',
        'Send a fresh random value (a UUID) with each new rotate, and the same one with its retries.',
        { field: 'Idempotency-Key' },
      );
    }
    return sha256(value);
  }

  function mismatch(): AppError {
    return new AppError(
      'idempotency_key_reused',
      'This Idempotency-Key was used in the last ten minutes for a different rotate (another key, grace_seconds or expires_at), so this one was not made.',
      'Send a fresh Idempotency-Key for a new rotate, or repeat the first request exactly to get its new key again.',
      { field: 'Idempotency-Key' },
    );
  }

  async function rotate(ctx: RequestContext, target: RotateTarget, input: RotateInput, idempotencyKey?: string) {
    // The permissions of deleting the key: the user's own key, or service_key.manage (runner: owners).
    let acc: Awaited<ReturnType<AccessService['resolve']>> | undefined;
    let userId: number | null = null;
    if (target.kind === 'user') {
      const user = requireUser(ctx.actor, 'User API keys');
      requireUnrestricted(user, 'rotating API keys');
      userId = user.userId;
    } else {
      acc = await access.resolve(ctx.actor, target.selector);
      access.authorize(ctx.actor, acc, 'service_key.manage');
      requireUnrestricted(ctx.actor, 'rotating API keys');
    }
    const accountId = acc?.accountId ?? null;
    // As on create: a service key's created_by is who made it, here who rotated it.
    const createdBy = ctx.actor.type === 'user' ? { id: ctx.actor.userId, login: ctx.actor.login } : null;
    const what = target.kind === 'user' ? `API key ${target.id}` : `Service API key ${target.id}`;
    const { graceSeconds, expiresAt: asked } = validate(input);
    const keyHash = checkIdempotencyKey(idempotencyKey);
    const caller = ctx.actor.type === 'user' ? `user:${ctx.actor.userId}` : `service:${ctx.actor.keyId}`;
    const requestHash = sha256(JSON.stringify([target.kind, accountId, target.id, input.grace_seconds ?? null, input.expires_at ?? null]));
    const aad = keyHash === undefined ? '' : replayAad(caller, keyHash);

    type Row = NonNullable<Awaited<ReturnType<typeof keys.findUserKey>>>;
    const respond = (row: Row, key: string) => ({ row, key, acc, createdBy: createdBy?.login ?? null });
    /** A replay still inside its window: the new key as it is now, its secret opened from the seal. */
    const replayed = async () => {
      if (keyHash === undefined) return undefined;
      const found = await repo.findReplay(db, caller, keyHash, clock.now().toISOString());
      if (!found) return undefined;
      if (found.request_hash !== requestHash) throw mismatch();
      const row = acc ? await keys.findServiceKey(db, acc.accountId, found.new_key_id) : await keys.findUserKey(db, userId!, found.new_key_id);
      if (!row) throw new AppError('already_rotated', `${what} was rotated by this request already (key ${found.new_key_id}), and that key has since been deleted.`, 'Create a new key instead.');
      // A role lost since the first answer (an owner made admin) no longer sees a runner key's secret.
      if (acc && row.role === 'runner') access.authorize(ctx.actor, acc, 'runner_key.manage');
      return respond(row, open(ring, found.sealed, aad).toString('utf8'));
    };

    const first = await replayed();
    if (first) return first;

    // Minted and sealed before the transaction opens.
    const minted = mintToken(target.kind);
    const sealed = keyHash === undefined ? undefined : seal(ring, minted.token, aad);
    let made;
    try {
      made = await db.transaction().execute(async (trx) => {
        const old = acc ? await keys.findServiceKey(trx, acc.accountId, target.id) : await keys.findUserKey(trx, userId!, target.id);
        if (!old) throw notFound(what);
        if (acc && old.role === 'runner') access.authorize(ctx.actor, acc, 'runner_key.manage');
        if (old.revoked_after !== null) throw alreadyRotated(what, await repo.findSuccessor(trx, old.id));
        const now = clock.now();
        const expiresAt = await policies.admitApiKey(accountId, asked, trx);
        const revokedAfter = new Date(now.getTime() + graceSeconds * 1000).toISOString();
        if (!(await repo.claimRotation(trx, old.id, revokedAfter))) throw alreadyRotated(what, await repo.findSuccessor(trx, old.id));
        const row = await keys.insertApiKey(trx, {
          kind: old.kind,
          user_id: old.user_id,
          account_id: old.account_id,
          name: old.name,
          role: old.role,
          token_hash: minted.hash,
          start: minted.start,
          scopes: old.scopes === null ? null : JSON.stringify(old.scopes),
          expires_at: expiresAt,
          created_by: createdBy?.id ?? null,
          created_at: now.toISOString(),
          limited_to_projects: old.limited_to_projects,
          rotated_from: old.id,
        });
        // A limited runner key's successor reads the same projects, never more.
        if (old.limited_to_projects) await keys.insertKeyProjects(trx, row.id, await repo.listProjectIds(trx, old.id));
        await repo.setSuccessor(trx, old.id, row.id);
        if (keyHash !== undefined && sealed !== undefined) {
          await repo.deleteExpiredReplay(trx, caller, keyHash, now.toISOString());
          await repo.insertReplay(trx, {
            caller,
            idempotency_key_hash: keyHash,
            request_hash: requestHash,
            old_key_id: old.id,
            new_key_id: row.id,
            sealed,
            created_at: now.toISOString(),
            expires_at: new Date(now.getTime() + REPLAY_WINDOW_MS).toISOString(),
          });
        }
        await audit.record(trx, ctx, {
          action: 'api_key.rotate',
          ...(accountId === null ? {} : { accountId }),
          target: { type: 'api_key', id: old.id, label: old.name },
          details: { kind: old.kind, rotated_from: old.id, new_key_id: row.id, grace_seconds: graceSeconds, stops_working_at: revokedAfter },
        });
        return row;
      });
    } catch (err) {
      // A rotate with the same Idempotency-Key that committed first: answer with its key.
      const lostRace = err instanceof AppError ? err.code === 'already_rotated' : isUniqueViolation(err);
      if (lostRace) {
        const again = await replayed();
        if (again) return again;
      }
      if (isUniqueViolation(err))
        throw new AppError('conflict', `${what} was rotated by another request at the same moment, so this rotate made nothing.`, 'List the keys again to see the successor.');
      throw err;
    }
    // After commit: every node drops its cached copy, so the grace end on the row is what counts.
    await invalidation.forgetKey(target.id);
    return respond(made, minted.token);
  }

  return {
    async rotateUserKey(ctx: RequestContext, id: number, input: RotateInput, idempotencyKey?: string) {
      const { row, key } = await rotate(ctx, { kind: 'user', id }, input, idempotencyKey);
      return { ...view(row), key };
    },
    async rotateServiceKey(ctx: RequestContext, selector: AccountSelector, id: number, input: RotateInput, idempotencyKey?: string) {
      const { row, key, acc, createdBy } = await rotate(ctx, { kind: 'service', selector, id }, input, idempotencyKey);
      const projects = row.limited_to_projects ? (await keys.listKeyProjects(db, [row.id])).map((p) => `${p.vcs}/${acc!.accountName}/${p.name}`) : null;
      return { ...view(row), role: row.role as ServiceRole, created_by: createdBy, projects, key };
    },
    /** The sweep job: destroys the sealed secrets whose replay window has ended. */
    sweepReplays: () => repo.deleteExpiredReplays(db, clock.now().toISOString()),
  };
}

export type ApiKeyRotationService = ReturnType<typeof createApiKeyRotationService>;
