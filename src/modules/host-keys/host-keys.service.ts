// Per-host SSH keys (README: the CircleCI-compatible key APIs): a private key a deployment needs for one host (or every host,
// with an empty hostname). Parsed before it is stored — its public half and fingerprints derived — and
// sealed; only `runner` keys ever read it back (checkout-credentials).
import { masterKeyIdsIn, open, seal, SEALED_KEY_PREFIX_LENGTH, type KeyRing } from '../../crypto/envelope.ts';
import { parseSshPublicKey } from '../../crypto/ssh-public-key.ts';
import { parseSshPrivateKey, SshPrivateKeyError } from '../../crypto/ssh-private-key.ts';
import type { Db } from '../../db/schema.ts';
import type { CredentialSource } from '../credential-notices/credential-source.ts';
import type { SealedValues } from '../master-key/sealed-values.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import { AppError, notFound } from '../../errors.ts';
import type { RequestContext } from '../access/actor.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { ProjectRef, ProjectService } from '../projects/projects.service.ts';
import type { PolicyGate } from '../policies/policies.service.ts';
import { parseExpiry } from '../policies/policy-rules.ts';
import * as repo from './host-keys.repo.ts';

export const HOSTNAME_PATTERN = '^$|^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$';
const hostname = new RegExp(HOSTNAME_PATTERN);

export const hostKeyAad = (projectId: number, host: string, fingerprintSha256: string): string => `host_key:${projectId}:${host}:${fingerprintSha256}`;

/** The host keys' sealed private halves, for master-key rotation. */
export function hostKeySealedValues(db: Db): SealedValues {
  return {
    listSealed: async () => (await repo.listAllSealed(db)).map((r) => ({ id: r.id, sealed: r.private_key_sealed, aad: hostKeyAad(r.project_id, r.hostname, r.fingerprint_sha256) })),
    findSealed: async (id) => (await repo.findSealed(db, id))?.private_key_sealed,
    replaceSealed: (id, before, after) => repo.replaceSealed(db, id, before, after),
    masterKeyIds: async () => masterKeyIdsIn(await repo.distinctSealedPrefixes(db, SEALED_KEY_PREFIX_LENGTH)),
  };
}

/**
 * What the credential scheduler asks of per-host keys: their expiry only. Keysmith never sees a
 * per-host key used (the runner takes it to another machine), so none is ever disabled as dormant.
 */
export function hostKeyCredentialSource(): CredentialSource {
  return {
    table: 'host_key',
    listExpiring: async (exec, from, to) =>
      (await repo.listExpiring(exec, from, to)).map((r) => ({
        kind: 'host_key' as const,
        id: r.id,
        name: `${r.hostname || 'every host'} (${r.vcs}/${r.project_name})`,
        fingerprint: r.fingerprint_sha256,
        owner: { type: 'account' as const, accountId: r.account_id },
        expiresAt: r.expires_at,
        activeAt: r.created_at,
      })),
  };
}

interface Deps {
  db: Db;
  ring: KeyRing;
  projects: ProjectService;
  policies: Pick<PolicyGate, 'admitSshKey'>;
  audit: AuditService;
  clock: { now(): Date };
}

export function createHostKeyService({ db, ring, projects, policies, audit, clock }: Deps) {
  return {
    /** A project's host keys with their private halves opened: for checkout-credentials only. */
    async openAll(projectId: number) {
      return (await repo.listSealed(db, projectId)).map((h) => ({
        hostname: h.hostname,
        fingerprintMd5: h.fingerprint_md5,
        fingerprintSha256: h.fingerprint_sha256,
        privateKey: open(ring, h.private_key_sealed, hostKeyAad(projectId, h.hostname, h.fingerprint_sha256)).toString('utf8'),
      }));
    },

    /** The per-host keys a policy covers, with the size read from the public half. */
    async listForPolicy(accountId: number | null) {
      return (await repo.listForPolicy(db, accountId)).map((r) => ({ ...r, bits: parseSshPublicKey(r.public_key).bits }));
    },

    async list(ctx: RequestContext, ref: ProjectRef) {
      const { project } = await projects.find(ctx, ref, 'project.read');
      const now = clock.now().getTime();
      return (await repo.listForProject(db, project.id)).map((r) => ({ ...r, expired: r.expires_at !== null && Date.parse(r.expires_at) <= now }));
    },

    async add(ctx: RequestContext, input: { project: ProjectRef; hostname: string; privateKey: string; expiresAt?: string | null | undefined }) {
      const { project, access } = await projects.find(ctx, input.project, 'project_key.write');
      const host = input.hostname.trim().toLowerCase();
      if (!hostname.test(host)) {
        throw new AppError('validation_failed', 'The hostname must be a host name such as deploy.example.com (letters, digits, dots and hyphens), or empty for every host.', undefined, {
          field: 'hostname',
        });
      }
      let parsed;
      try {
        parsed = parseSshPrivateKey(input.privateKey);
      } catch (err) {
        if (err instanceof SshPrivateKeyError) throw new AppError(err.code, err.message, undefined, { field: 'private_key' });
        throw err;
      }
      const expiresAt = await policies.admitSshKey(access.accountId, { type: parsed.type, bits: parsed.bits, expiresAt: parseExpiry(input.expiresAt, clock.now()) });
      const sealed = seal(ring, parsed.privateKey, hostKeyAad(project.id, host, parsed.fingerprintSha256));
      const slug = `${project.vcs}/${access.accountName}/${project.name}`;
      const createdAt = clock.now().toISOString();
      try {
        const id = await db.transaction().execute(async (trx) => {
          const id = await repo.insertHostKey(trx, {
            project_id: project.id,
            hostname: host,
            key_type: parsed.type,
            public_key: parsed.publicKey,
            fingerprint_md5: parsed.fingerprintMd5,
            fingerprint_sha256: parsed.fingerprintSha256,
            private_key_sealed: sealed,
            created_by: ctx.actor.type === 'user' ? ctx.actor.userId : null,
            created_at: createdAt,
            expires_at: expiresAt,
          });
          await audit.record(trx, ctx, {
            action: 'host_key.create',
            accountId: access.accountId,
            target: { type: 'host_key', id, label: slug },
            details: { hostname: host, fingerprint: parsed.fingerprintMd5 },
          });
          return id;
        });
        return { id, hostname: host, publicKey: parsed.publicKey, fingerprintMd5: parsed.fingerprintMd5, fingerprintSha256: parsed.fingerprintSha256, createdAt, expiresAt };
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new AppError('conflict', `This key is already added for ${host === '' ? 'all hosts' : host} in ${slug}.`, 'Nothing to do; delete it first to add it again.', { field: 'private_key' });
        }
        throw err;
      }
    },

    async remove(ctx: RequestContext, input: { project: ProjectRef; fingerprint: string; hostname: string }) {
      const { project, access } = await projects.find(ctx, input.project, 'project_key.write');
      const host = input.hostname.trim().toLowerCase();
      await db.transaction().execute(async (trx) => {
        const key = await repo.findHostKey(trx, project.id, host, input.fingerprint);
        if (!key) throw notFound(`The SSH key ${input.fingerprint.slice(0, 100)} for ${host === '' ? 'all hosts' : host.slice(0, 253)}`);
        await repo.deleteHostKey(trx, key.id);
        await audit.record(trx, ctx, {
          action: 'host_key.delete',
          accountId: access.accountId,
          target: { type: 'host_key', id: key.id, label: `${project.vcs}/${access.accountName}/${project.name}` },
          details: { hostname: host, fingerprint: key.fingerprint_md5 },
        });
      });
    },
  };
}

export type HostKeyService = ReturnType<typeof createHostKeyService>;
