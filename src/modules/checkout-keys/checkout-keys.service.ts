// Checkout keys (README: the CircleCI-compatible key APIs): Keysmith generates the pair (outside any transaction), keeps the
// private half sealed, and registers the public half — as a read-only deploy key of the project, or,
// for a user key, on the calling user's own account under their write:public_key grant.
import { masterKeyIdsIn, open, seal, SEALED_KEY_PREFIX_LENGTH, type KeyRing } from '../../crypto/envelope.ts';
import { generateKeyPair } from '../../crypto/ssh-keypair.ts';
import type { Db, Executor } from '../../db/schema.ts';
import { AppError, notFound } from '../../errors.ts';
import { requireScope, type AccessService } from '../access/access.service.ts';
import type { Actor, RequestContext } from '../access/actor.ts';
import type { PolicyGate } from '../policies/policies.service.ts';
import type { AuditOrigin, AuditService } from '../audit/audit.service.ts';
import type { GrantService } from '../grants/grants.service.ts';
import type { ProjectRef, ProjectService } from '../projects/projects.service.ts';
import type { HostKeyService } from '../host-keys/host-keys.service.ts';
import type { SealedValues } from '../master-key/sealed-values.ts';
import type { SshKeyService } from '../ssh-keys/ssh-keys.service.ts';
import * as repo from './checkout-keys.repo.ts';

export type CheckoutKind = 'deploy' | 'user';
export type KeyAlgorithm = 'ed25519' | 'rsa';

export interface NewCheckoutKey {
  project: ProjectRef;
  kind: CheckoutKind;
  algorithm?: KeyAlgorithm | undefined;
}

/** Binds a sealed private key to its record, so a value moved to another row cannot be opened. */
export const checkoutKeyAad = (projectId: number, fingerprintSha256: string): string => `checkout_key:${projectId}:${fingerprintSha256}`;

export interface ListedCheckoutKey extends repo.CheckoutKeyRow {
  preferred: boolean;
}

/** Exactly one preferred key: the newest user key if any, else the newest deploy key. */
function withPreferred(rows: repo.CheckoutKeyRow[]): ListedCheckoutKey[] {
  const preferred = rows.find((r) => r.kind === 'user') ?? rows[0];
  return rows.map((r) => ({ ...r, preferred: r === preferred }));
}

/** A user checkout key with its project and account, as grants and accounts see it. */
export type UserCheckoutKey = repo.UserCheckoutKeyRow;

/** Why user checkout keys were removed on someone else's behalf; recorded in each audit row. */
export type RemovalReason = 'grant revoked' | 'member removed' | 'user deleted';

/** What grants and accounts need: a user's checkout keys, and removing them (each audited). */
export interface UserKeyRemoval {
  listUserKeys(trx: Executor, userId: number, accountId?: number): Promise<UserCheckoutKey[]>;
  removeKeys(trx: Executor, origin: AuditOrigin, keys: UserCheckoutKey[], reason: RemovalReason): Promise<void>;
}

/** The checkout keys' sealed private halves, for master-key rotation. */
export function checkoutKeySealedValues(db: Db): SealedValues {
  return {
    listSealed: async () => (await repo.listAllSealed(db)).map((r) => ({ id: r.id, sealed: r.private_key_sealed, aad: checkoutKeyAad(r.project_id, r.fingerprint_sha256) })),
    findSealed: async (id) => (await repo.findSealed(db, id))?.private_key_sealed,
    replaceSealed: (id, before, after) => repo.replaceSealed(db, id, before, after),
    masterKeyIds: async () => masterKeyIdsIn(await repo.distinctSealedPrefixes(db, SEALED_KEY_PREFIX_LENGTH)),
  };
}

interface Deps {
  db: Db;
  ring: KeyRing;
  access: AccessService;
  projects: ProjectService;
  grants: Pick<GrantService, 'require'>;
  /** The ssh-keys module owns ssh_keys, where each checkout key's public half lives. */
  publicHalves: Pick<SshKeyService, 'insertPublicHalf' | 'removePublicHalves'>;
  hostKeys: Pick<HostKeyService, 'openAll'>;
  /** The api-keys module's answer to "may this runner key read this project's private keys?" */
  runnerLimits: { mayReadProjectSecrets(actor: Actor, projectId: number): Promise<boolean> };
  policies: Pick<PolicyGate, 'admitSshKey'>;
  audit: AuditService;
  clock: { now(): Date };
}

export function createCheckoutKeyService({ db, ring, access, projects, grants, publicHalves, hostKeys, runnerLimits, policies, audit, clock }: Deps) {
  async function findKey(ctx: RequestContext, ref: ProjectRef, fingerprint: string) {
    const found = await projects.find(ctx, ref, 'project.read');
    const key = await repo.findByFingerprint(db, found.project.id, fingerprint);
    if (!key) throw notFound(`Checkout key ${fingerprint.slice(0, 100)}`);
    const all = withPreferred(await repo.listForProject(db, found.project.id));
    return { ...found, key: all.find((k) => k.id === key.id)! };
  }

  return {
    listUserKeys: (trx: Executor, userId: number, accountId?: number) => repo.listUserKeys(trx, userId, accountId),

    /** Removes checkout keys (public half and private half) inside the caller's transaction, auditing each. */
    async removeKeys(trx: Executor, ctx: AuditOrigin, keys: UserCheckoutKey[], reason: RemovalReason): Promise<void> {
      await publicHalves.removePublicHalves(
        trx,
        keys.map((k) => k.ssh_key_id),
      );
      await audit.recordMany(
        trx,
        ctx,
        keys.map((k) => ({
          action: 'checkout_key.delete' as const,
          accountId: k.account_id,
          target: { type: 'checkout_key', id: k.id, label: `${k.vcs}/${k.account_name}/${k.project_name}` },
          details: { fingerprint: k.fingerprint_md5, reason },
        })),
      );
    },

    /** An SSH key is being deleted: if it is a checkout key's public half, say in the trail that the checkout key goes too. */
    async beforeSshKeyRemoved(trx: Executor, ctx: RequestContext, sshKeyId: number): Promise<void> {
      const checkout = await repo.findBySshKeyId(trx, sshKeyId);
      if (!checkout) return;
      await audit.record(trx, ctx, {
        action: 'checkout_key.delete',
        accountId: checkout.account_id,
        target: { type: 'checkout_key', id: checkout.id, label: `${checkout.vcs}/${checkout.account_name}/${checkout.project_name}` },
        details: { kind: checkout.kind, fingerprint: checkout.fingerprint_md5, reason: 'its public key was deleted' },
      });
    },

    async list(ctx: RequestContext, ref: ProjectRef) {
      const { project, access: acc } = await projects.find(ctx, ref, 'project.read');
      return { project, access: acc, keys: withPreferred(await repo.listForProject(db, project.id)) };
    },

    get: findKey,

    async create(ctx: RequestContext, { project: ref, kind, algorithm = 'ed25519' }: NewCheckoutKey) {
      const { project, access: acc } = await projects.find(ctx, ref, 'project.read');
      const slug = `${project.vcs}/${acc.accountName}/${project.name}`;
      const actor = ctx.actor;
      if (kind === 'user' && actor.type !== 'user') {
        throw new AppError(
          'user_key_required',
          "A user checkout key is added to a person's own SSH keys and acts as that person, so it needs their own user API key; this is a service API key.",
          'Create the key with your own user API key, or create a deploy key instead.',
        );
      }
      access.authorize(actor, acc, 'project_key.write');
      if (actor.type === 'user' && kind === 'user') {
        requireScope(actor, 'write:public_key', 'Creating a user checkout key');
        await grants.require(db, actor, 'write:public_key', 'Creating a user checkout key', slug);
      }

      // Checked before the pair is made: the account's policy (and the instance's) on type, size and lifetime.
      const expiresAt = await policies.admitSshKey(acc.accountId, { type: algorithm === 'rsa' ? 'ssh-rsa' : 'ssh-ed25519', bits: algorithm === 'rsa' ? 4096 : 256, expiresAt: null });
      const pair = await generateKeyPair(algorithm, `keysmith checkout key for ${slug}`);
      const sealed = seal(ring, pair.privateKey, checkoutKeyAad(project.id, pair.fingerprintSha256));
      const now = clock.now().toISOString();
      const createdBy = actor.type === 'user' ? actor.userId : null;
      const id = await db.transaction().execute(async (trx) => {
        if (actor.type === 'user' && kind === 'user') await grants.require(trx, actor, 'write:public_key', 'Creating a user checkout key', slug);
        const sshKeyId = await publicHalves.insertPublicHalf(trx, {
          kind: kind === 'user' ? 'user' : 'deploy',
          user_id: kind === 'user' ? createdBy : null,
          // Set for user keys too, so deleting the project (or its account) takes the user's key with it.
          project_id: project.id,
          title: `Keysmith checkout key for ${slug}`,
          key_type: pair.type,
          public_key: pair.publicKey,
          fingerprint_sha256: pair.fingerprintSha256,
          fingerprint_md5: pair.fingerprintMd5,
          bits: pair.bits,
          read_only: true,
          added_by: createdBy,
          created_at: now,
          expires_at: expiresAt,
        });
        const id = await repo.insertCheckoutKey(trx, {
          project_id: project.id,
          ssh_key_id: sshKeyId,
          kind,
          user_id: kind === 'user' ? createdBy : null,
          public_key: pair.publicKey,
          fingerprint_md5: pair.fingerprintMd5,
          fingerprint_sha256: pair.fingerprintSha256,
          private_key_sealed: sealed,
          created_by: createdBy,
          created_at: now,
        });
        await audit.record(trx, ctx, {
          action: 'checkout_key.create',
          accountId: acc.accountId,
          target: { type: 'checkout_key', id, label: slug },
          details: { kind, fingerprint: pair.fingerprintMd5, algorithm },
        });
        return id;
      });
      const keys = withPreferred(await repo.listForProject(db, project.id));
      return { project, access: acc, key: keys.find((k) => k.id === id)! };
    },

    /** Deleting a checkout key removes its public half too (the deploy key, or the user's own key). */
    async remove(ctx: RequestContext, ref: ProjectRef, fingerprint: string) {
      const { project, access: acc, key } = await findKey(ctx, ref, fingerprint);
      access.authorize(ctx.actor, acc, 'project_key.write');
      await db.transaction().execute(async (trx) => {
        await publicHalves.removePublicHalves(trx, [key.ssh_key_id]);
        await audit.record(trx, ctx, {
          action: 'checkout_key.delete',
          accountId: acc.accountId,
          target: { type: 'checkout_key', id: key.id, label: `${project.vcs}/${acc.accountName}/${project.name}` },
          details: { kind: key.kind, fingerprint: key.fingerprint_md5 },
        });
      });
    },

    /** For `runner` service keys only: the private halves a CI job needs. Every call is audited. */
    async credentials(ctx: RequestContext, ref: ProjectRef) {
      const { project, access: acc } = await projects.find(ctx, ref, 'credentials.fetch');
      // A runner key limited to other projects is told what it would be told of a project it cannot see.
      if (!(await runnerLimits.mayReadProjectSecrets(ctx.actor, project.id))) throw notFound(`Project ${ref.vcs}/${ref.account}/${ref.name}`);
      // A disabled user's checkout key acts as them, so it is passed over (the deploy key, if any, serves) until they are enabled.
      const disabled = new Set(await repo.listDisabledUsersKeyIds(db, project.id));
      const usable = (await repo.listForProject(db, project.id)).filter((k) => !disabled.has(k.id));
      const preferred = withPreferred(usable).find((k) => k.preferred);
      const hosts = await hostKeys.openAll(project.id);
      const sealedCheckout = preferred ? await repo.findSealed(db, preferred.id) : undefined;
      const checkoutKey =
        preferred && sealedCheckout
          ? {
              kind: preferred.kind,
              fingerprintMd5: preferred.fingerprint_md5,
              fingerprintSha256: preferred.fingerprint_sha256,
              privateKey: open(ring, sealedCheckout.private_key_sealed, checkoutKeyAad(project.id, preferred.fingerprint_sha256)).toString('utf8'),
            }
          : null;
      await db.transaction().execute((trx) =>
        audit.record(trx, ctx, {
          action: 'credentials.fetch',
          accountId: acc.accountId,
          target: { type: 'project', id: project.id, label: `${project.vcs}/${acc.accountName}/${project.name}` },
          details: { checkout_key: checkoutKey?.fingerprintMd5 ?? null, ssh_keys: hosts.length },
        }),
      );
      return { checkoutKey, hostKeys: hosts };
    },
  };
}

export type CheckoutKeyService = ReturnType<typeof createCheckoutKeyService>;
