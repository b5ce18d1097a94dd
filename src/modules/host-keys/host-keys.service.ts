// Per-host SSH keys (README: the CircleCI-compatible key APIs): a private key a deployment needs for one host (or every host,
// with an empty hostname). Parsed before it is stored — its public half and fingerprints derived — and
// sealed; only `runner` keys ever read it back (checkout-credentials).
import { seal, type KeyRing } from '../../crypto/envelope.ts';
import { parseSshPrivateKey, SshPrivateKeyError } from '../../crypto/ssh-private-key.ts';
import type { Db } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import { AppError, notFound } from '../../errors.ts';
import type { RequestContext } from '../access/actor.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { ProjectService } from '../projects/projects.service.ts';
import * as repo from './host-keys.repo.ts';

export const HOSTNAME_PATTERN = '^$|^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$';
const hostname = new RegExp(HOSTNAME_PATTERN);

export const hostKeyAad = (projectId: number, host: string, fingerprintSha256: string): string => `host_key:${projectId}:${host}:${fingerprintSha256}`;

export function createHostKeyService({ db, ring, projects, audit, clock }: { db: Db; ring: KeyRing; projects: ProjectService; audit: AuditService; clock: { now(): Date } }) {
  return {
    async list(ctx: RequestContext, vcs: string, account: string, name: string) {
      const { project } = await projects.find(ctx, vcs, account, name, 'project.read');
      return repo.listForProject(db, project.id);
    },

    async add(ctx: RequestContext, vcs: string, account: string, name: string, input: { hostname: string; private_key: string }) {
      const { project, access } = await projects.find(ctx, vcs, account, name, 'project_key.write');
      const host = input.hostname.trim().toLowerCase();
      if (!hostname.test(host)) {
        throw new AppError('validation_failed', 'The hostname must be a host name such as deploy.example.com (letters, digits, dots and hyphens), or empty for every host.', undefined, { field: 'hostname' });
      }
      let parsed;
      try {
        parsed = parseSshPrivateKey(input.private_key);
      } catch (err) {
        if (err instanceof SshPrivateKeyError) throw new AppError(err.code, err.message, undefined, { field: 'private_key' });
        throw err;
      }
      const sealed = seal(ring, parsed.privateKey, hostKeyAad(project.id, host, parsed.fingerprintSha256));
      const slug = `${project.vcs}/${access.accountName}/${project.name}`;
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
            created_at: clock.now().toISOString(),
          });
          await audit.record(trx, ctx, { action: 'host_key.create', accountId: access.accountId, target: { type: 'host_key', id, label: slug }, details: { hostname: host, fingerprint: parsed.fingerprintMd5 } });
          return id;
        });
        return { id, hostname: host, public_key: parsed.publicKey, fingerprint: parsed.fingerprintMd5, fingerprint_sha256: parsed.fingerprintSha256 };
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new AppError('conflict', `This key is already added for ${host === '' ? 'all hosts' : host} in ${slug}.`, 'Nothing to do; delete it first to add it again.', { field: 'private_key' });
        }
        throw err;
      }
    },

    async remove(ctx: RequestContext, vcs: string, account: string, name: string, input: { fingerprint: string; hostname: string }) {
      const { project, access } = await projects.find(ctx, vcs, account, name, 'project_key.write');
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
