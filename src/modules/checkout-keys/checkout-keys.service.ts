// Checkout keys (README: the CircleCI-compatible key APIs): Keysmith generates the pair (outside any transaction), keeps the
// private half sealed, and registers the public half — as a read-only deploy key of the project, or,
// for a user key, on the calling user's own account under their write:public_key grant.
import { open, seal, type KeyRing } from '../../crypto/envelope.ts';
import { generateKeyPair } from '../../crypto/ssh-keypair.ts';
import type { Db } from '../../db/schema.ts';
import { AppError, notFound } from '../../errors.ts';
import { requireScope, type AccessService } from '../access/access.service.ts';
import type { RequestContext } from '../access/actor.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { GrantService } from '../grants/grants.service.ts';
import type { ProjectService } from '../projects/projects.service.ts';
import * as sshKeysRepo from '../ssh-keys/ssh-keys.repo.ts';
import * as hostRepo from '../host-keys/host-keys.repo.ts';
import { hostKeyAad } from '../host-keys/host-keys.service.ts';
import * as repo from './checkout-keys.repo.ts';

export type CheckoutKind = 'deploy' | 'user';
export type KeyAlgorithm = 'ed25519' | 'rsa';

/** The names clients send: CircleCI v1.1 (`deploy-key`, `github-user-key`, `bitbucket-user-key`) and v2 (`user-key`). */
const typeNames: Record<string, CheckoutKind> = {
  'deploy-key': 'deploy',
  'user-key': 'user',
  'github-user-key': 'user',
  'bitbucket-user-key': 'user',
};

export function parseCheckoutKeyType(value: string): CheckoutKind {
  const kind = typeNames[value];
  if (!kind) {
    throw new AppError(
      'validation_failed',
      `The checkout key type "${value.slice(0, 40)}" is not known; use one of: deploy-key, user-key (also github-user-key, bitbucket-user-key).`,
      undefined,
      { field: 'type' },
    );
  }
  return kind;
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

interface Deps {
  db: Db;
  ring: KeyRing;
  access: AccessService;
  projects: ProjectService;
  grants: GrantService;
  audit: AuditService;
  clock: { now(): Date };
}

export function createCheckoutKeyService({ db, ring, access, projects, grants, audit, clock }: Deps) {
  async function findKey(ctx: RequestContext, vcs: string, account: string, name: string, fingerprint: string) {
    const found = await projects.find(ctx, vcs, account, name, 'project.read');
    const key = await repo.findByFingerprint(db, found.project.id, fingerprint);
    if (!key) throw notFound(`Checkout key ${fingerprint.slice(0, 100)}`);
    const all = withPreferred(await repo.listForProject(db, found.project.id));
    return { ...found, key: all.find((k) => k.id === key.id)! };
  }

  return {
    async list(ctx: RequestContext, vcs: string, account: string, name: string) {
      const { project, access: acc } = await projects.find(ctx, vcs, account, name, 'project.read');
      return { project, access: acc, keys: withPreferred(await repo.listForProject(db, project.id)) };
    },

    get: findKey,

    async create(ctx: RequestContext, vcs: string, account: string, name: string, kind: CheckoutKind, algorithm: KeyAlgorithm = 'ed25519') {
      const { project, access: acc } = await projects.find(ctx, vcs, account, name, 'project.read');
      const slug = `${project.vcs}/${acc.accountName}/${project.name}`;
      const actor = ctx.actor;
      if (kind === 'user' && actor.type !== 'user') {
        throw new AppError(
          'user_key_required',
          'A user checkout key is added to a person\'s own SSH keys and acts as that person, so it needs their own user API key; this is a service API key.',
          'Create the key with your own user API key, or create a deploy key instead.',
        );
      }
      access.authorize(actor, acc, 'project_key.write');
      if (actor.type === 'user' && kind === 'user') {
        requireScope(actor, 'write:public_key', 'Creating a user checkout key');
        await grants.require(db, actor, 'write:public_key', 'Creating a user checkout key');
      }

      const pair = await generateKeyPair(algorithm, `keysmith checkout key for ${slug}`);
      const sealed = seal(ring, pair.privateKey, checkoutKeyAad(project.id, pair.fingerprintSha256));
      const now = clock.now().toISOString();
      const createdBy = actor.type === 'user' ? actor.userId : null;
      const id = await db.transaction().execute(async (trx) => {
        if (actor.type === 'user' && kind === 'user') await grants.require(trx, actor, 'write:public_key', 'Creating a user checkout key');
        const sshKeyId = await sshKeysRepo.insertKey(trx, {
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
    async remove(ctx: RequestContext, vcs: string, account: string, name: string, fingerprint: string) {
      const { project, access: acc, key } = await findKey(ctx, vcs, account, name, fingerprint);
      access.authorize(ctx.actor, acc, 'project_key.write');
      await db.transaction().execute(async (trx) => {
        await repo.deleteSshKeys(trx, [key.ssh_key_id]);
        await audit.record(trx, ctx, {
          action: 'checkout_key.delete',
          accountId: acc.accountId,
          target: { type: 'checkout_key', id: key.id, label: `${project.vcs}/${acc.accountName}/${project.name}` },
          details: { kind: key.kind, fingerprint: key.fingerprint_md5 },
        });
      });
    },

    /** For `runner` service keys only: the private halves a CI job needs. Every call is audited. */
    async credentials(ctx: RequestContext, vcs: string, account: string, name: string) {
      const { project, access: acc } = await projects.find(ctx, vcs, account, name, 'credentials.fetch');
      const preferred = withPreferred(await repo.listForProject(db, project.id)).find((k) => k.preferred);
      const hosts = await hostRepo.listSealed(db, project.id);
      const sealedCheckout = preferred ? await repo.findSealed(db, preferred.id) : undefined;
      const result = {
        checkout_key:
          preferred && sealedCheckout
            ? {
                fingerprint: preferred.fingerprint_md5,
                fingerprint_sha256: preferred.fingerprint_sha256,
                type: preferred.kind === 'deploy' ? 'deploy-key' : 'user-key',
                private_key: open(ring, sealedCheckout.private_key_sealed, checkoutKeyAad(project.id, preferred.fingerprint_sha256)).toString('utf8'),
              }
            : null,
        ssh_keys: hosts.map((h) => ({
          hostname: h.hostname,
          fingerprint: h.fingerprint_md5,
          fingerprint_sha256: h.fingerprint_sha256,
          private_key: open(ring, h.private_key_sealed, hostKeyAad(project.id, h.hostname, h.fingerprint_sha256)).toString('utf8'),
        })),
      };
      await db.transaction().execute((trx) =>
        audit.record(trx, ctx, {
          action: 'credentials.fetch',
          accountId: acc.accountId,
          target: { type: 'project', id: project.id, label: `${project.vcs}/${acc.accountName}/${project.name}` },
          details: { checkout_key: result.checkout_key?.fingerprint ?? null, ssh_keys: hosts.length },
        }),
      );
      return result;
    },
  };
}

export type CheckoutKeyService = ReturnType<typeof createCheckoutKeyService>;
