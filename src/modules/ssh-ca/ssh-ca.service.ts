// Each account's SSH user certificate authority (README: SSH certificates): an ed25519 key made on
// first use, its private half sealed under the master key like checkout keys'; rotation keeps the old
// key as `previous` (still trusted) until it is dropped. Certificates for people (hours) and for CI
// jobs (minutes, for a key pair the job made itself) are signed here, recorded and audited; a revoked
// one is refused by the online check at once and listed in the account's KRL.
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { masterKeyIdsIn, open, seal, SEALED_KEY_PREFIX_LENGTH, type KeyRing } from '../../crypto/envelope.ts';
import { caPublicKey, DEFAULT_USER_EXTENSIONS, signSshCertificate, SshCertificateError } from '../../crypto/ssh-certificate.ts';
import { encodeSshKrl } from '../../crypto/ssh-krl.ts';
import { parseSshPublicKey, SshKeyError, type ParsedSshKey } from '../../crypto/ssh-public-key.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import type { Db, Executor } from '../../db/schema.ts';
import { AppError, notFound } from '../../errors.ts';
import type { Actor, RequestContext } from '../access/actor.ts';
import { requireScope, requireUser, type AccessService, type AccountAccess, type AccountSelector } from '../access/access.service.ts';
import type { PolicyGate } from '../policies/policies.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Role } from '../access/roles.ts';
import type { SealedValues } from '../master-key/sealed-values.ts';
import type { ProjectRef, ProjectService } from '../projects/projects.service.ts';
import * as repo from './ssh-ca.repo.ts';

export const USER_TTL = { default: 8 * 3600, max: 24 * 3600 };
export const RUNNER_TTL = { default: 10 * 60, max: 3600 };
export const MIN_TTL = 60;
/** A certificate becomes valid this long before it is issued, for servers whose clocks run behind. */
export const BACKDATE_SECONDS = 60;

export const sshCaAad = (accountId: number, fingerprintSha256: string): string => `ssh_ca:${accountId}:${fingerprintSha256}`;

/** The CA keys' sealed private halves, for master-key rotation. */
export function sshCaSealedValues(db: Db): SealedValues {
  return {
    listSealed: async () => (await repo.listAllSealed(db)).map((r) => ({ id: r.id, sealed: r.private_key_sealed, aad: sshCaAad(r.account_id, r.fingerprint_sha256) })),
    findSealed: async (id) => (await repo.findSealed(db, id))?.private_key_sealed,
    replaceSealed: (id, before, after) => repo.replaceSealed(db, id, before, after),
    masterKeyIds: async () => masterKeyIdsIn(await repo.distinctSealedPrefixes(db, SEALED_KEY_PREFIX_LENGTH)),
  };
}

interface Deps {
  db: Db;
  ring: KeyRing;
  access: AccessService;
  projects: Pick<ProjectService, 'find'>;
  runnerLimits: { mayReadProjectSecrets(actor: Actor, projectId: number): Promise<boolean> };
  policies: Pick<PolicyGate, 'admitCertificateTtl'>;
  audit: AuditService;
  clock: { now(): Date };
}

export type CaKey = Awaited<ReturnType<typeof repo.listCaKeys>>[number];
export type CertificateHolder = { kind: 'user'; login: string; role: Role } | { kind: 'runner'; projectId: number; vcs: 'gh' | 'bb'; name: string };

export type CertificateRecord = NonNullable<Awaited<ReturnType<typeof repo.findCertificate>>>;

const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);
const iso = (s: number): string => new Date(s * 1000).toISOString();

function parseSubject(text: string): ParsedSshKey {
  try {
    return parseSshPublicKey(text);
  } catch (err) {
    if (err instanceof SshKeyError) throw new AppError(err.code, err.message, undefined, { field: 'public_key' });
    throw err;
  }
}

function ttlOf(asked: number | undefined, limits: { default: number; max: number }, what: string, hint: string): number {
  if (asked === undefined) return limits.default;
  if (!Number.isSafeInteger(asked) || asked < MIN_TTL || asked > limits.max) {
    throw new AppError(
      'validation_failed',
      `ttl_seconds must be a whole number from ${MIN_TTL} to ${limits.max} (${hint}) for ${what}; it was ${String(asked).slice(0, 30)}.`,
      `Ask for ${limits.max} seconds or less, or leave ttl_seconds out for the default of ${limits.default}.`,
      { field: 'ttl_seconds' },
    );
  }
  return asked;
}

export function createSshCaService({ db, ring, access, projects, runnerLimits, policies, audit, clock }: Deps) {
  const openCa = (row: { account_id: number; fingerprint_sha256: string; private_key_sealed: string }): KeyObject =>
    createPrivateKey({ key: open(ring, row.private_key_sealed, sshCaAad(row.account_id, row.fingerprint_sha256)), format: 'der', type: 'pkcs8' });

  function newCaKey(accountId: number, state: 'active' | 'previous') {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pub = caPublicKey(privateKey);
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    return {
      row: {
        account_id: accountId,
        state,
        public_key: pub.key,
        fingerprint_sha256: pub.fingerprintSha256,
        private_key_sealed: seal(ring, der, sshCaAad(accountId, pub.fingerprintSha256)),
        created_at: clock.now().toISOString(),
      },
      publicKey: pub,
    };
  }

  /** The account's active CA key with its private half, made (and audited) on first use. */
  async function activeCa(ctx: RequestContext, acc: AccountAccess) {
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await repo.findCaKey(db, acc.accountId, 'active');
      if (existing) return existing;
      const made = newCaKey(acc.accountId, 'active');
      try {
        await db.transaction().execute(async (trx) => {
          const id = await repo.insertCaKey(trx, made.row);
          await audit.record(trx, ctx, {
            action: 'ssh_ca.create',
            accountId: acc.accountId,
            target: { type: 'ssh_ca', id, label: acc.accountName },
            details: { fingerprint: made.row.fingerprint_sha256 },
          });
        });
      } catch (err) {
        // Another request made it at the same moment: use theirs.
        if (!isUniqueViolation(err)) throw err;
      }
    }
    throw new Error('the account CA could not be created');
  }

  /**
   * A certificate that still lets its holder in: known, signed by a CA key the account still trusts,
   * inside its validity, unrevoked, and its user a live member (or its runner's project still there).
   */
  async function liveCertificate(accountId: number, serial: number) {
    const [cert, keys] = await Promise.all([repo.findForCheck(db, accountId, serial), repo.listCaKeys(db, accountId)]);
    if (!cert || cert.revoked_at !== null || !keys.some((k) => k.fingerprint_sha256 === cert.ca_fingerprint_sha256)) return undefined;
    const now = clock.now().getTime();
    if (Date.parse(cert.valid_before) <= now || Date.parse(cert.valid_after) > now) return undefined;
    const [principal] = JSON.parse(cert.principals) as string[];
    if (principal === undefined) return undefined;
    if (cert.kind === 'user' ? cert.member_role === null || cert.disabled_at !== null || cert.login === null : cert.project_name === null) return undefined;
    return { cert, principal };
  }

  async function accountFor(ctx: RequestContext, name: string, permission: 'ssh_ca.read' | 'ssh_ca.manage' | 'ssh_certificate.manage') {
    const acc = await access.resolve(ctx.actor, { from: 'path', name });
    access.authorize(ctx.actor, acc, permission);
    return acc;
  }

  async function publicAccount(name: string) {
    const account = await repo.findAccountByName(db, name);
    if (!account) throw notFound(`Account ${name.slice(0, 39)}`);
    return account;
  }

  function requester(actor: Actor): string {
    return actor.type === 'user' ? `user ${actor.login}` : `service key ${actor.keyName} (${actor.keyId})`;
  }

  /** Signs and records a certificate in one transaction; the serial is the account's next. */
  async function issue(
    ctx: RequestContext,
    acc: AccountAccess,
    subject: ParsedSshKey,
    fields: { kind: 'user' | 'runner'; keyId: string; principals: string[]; ttl: number; userId: number | null; projectId: number | null; serviceKeyId: number | null; label: string },
  ) {
    const ca = await activeCa(ctx, acc);
    const caKey = openCa(ca);
    const now = seconds(clock.now());
    const validAfter = now - BACKDATE_SECONDS;
    const validBefore = now + fields.ttl;
    for (let attempt = 0; ; attempt++) {
      try {
        return await db.transaction().execute(async (trx: Executor) => {
          const serial = (await repo.lastSerial(trx, acc.accountId)) + 1;
          let signed;
          try {
            signed = signSshCertificate(subject, caKey, {
              kind: 'user',
              serial,
              keyId: fields.keyId,
              principals: fields.principals,
              validAfter,
              validBefore,
              ...(fields.kind === 'user' ? { extensions: DEFAULT_USER_EXTENSIONS } : {}),
            });
          } catch (err) {
            if (err instanceof SshCertificateError) throw new AppError(err.code, err.message, undefined, { field: 'public_key' });
            throw err;
          }
          const id = await repo.insertCertificate(trx, {
            account_id: acc.accountId,
            serial,
            kind: fields.kind,
            user_id: fields.userId,
            project_id: fields.projectId,
            service_key_id: fields.serviceKeyId,
            requested_by: requester(ctx.actor),
            key_id: fields.keyId,
            principals: JSON.stringify(fields.principals),
            key_type: subject.type,
            key_fingerprint_sha256: subject.fingerprintSha256,
            ca_fingerprint_sha256: ca.fingerprint_sha256,
            valid_after: iso(validAfter),
            valid_before: iso(validBefore),
            created_at: clock.now().toISOString(),
          });
          await audit.record(trx, ctx, {
            action: 'ssh_certificate.issue',
            accountId: acc.accountId,
            target: { type: 'ssh_certificate', id, label: fields.label },
            details: { serial, key_id: fields.keyId, principals: fields.principals.join(','), fingerprint: subject.fingerprintSha256, valid_before: iso(validBefore) },
          });
          return { serial, keyId: fields.keyId, principals: fields.principals, validAfter: iso(validAfter), validBefore: iso(validBefore), certificate: signed.certificate };
        });
      } catch (err) {
        // Two certificates of one account at the same moment: the loser takes the next serial.
        if (isUniqueViolation(err) && attempt < 5) continue;
        throw err;
      }
    }
  }

  return {
    /** The account's trusted CA keys (made on first use). */
    async keys(ctx: RequestContext, account: string): Promise<CaKey[]> {
      const acc = await accountFor(ctx, account, 'ssh_ca.read');
      await activeCa(ctx, acc);
      return repo.listCaKeys(db, acc.accountId);
    },

    /** The public TrustedUserCAKeys file: one line per trusted key; empty until the CA is first used. */
    async publicFile(account: string): Promise<string> {
      const acc = await publicAccount(account);
      const keys = await repo.listCaKeys(db, acc.id);
      return keys.map((k) => `${k.public_key} keysmith-ca:${acc.name}:${k.state}\n`).join('');
    },

    async rotate(ctx: RequestContext, account: string): Promise<CaKey[]> {
      const acc = await accountFor(ctx, account, 'ssh_ca.manage');
      const active = await repo.findCaKey(db, acc.accountId, 'active');
      if (!active) {
        await activeCa(ctx, acc);
        return repo.listCaKeys(db, acc.accountId);
      }
      const previous = await repo.findCaKey(db, acc.accountId, 'previous');
      if (previous) {
        throw new AppError(
          'conflict',
          `Account ${acc.accountName} already has a previous SSH CA key (${previous.fingerprint_sha256}), still trusted; rotating again would stop trusting it without a word.`,
          `Drop it first with DELETE /v1/accounts/${acc.accountName}/ssh-ca/previous once certificates signed by it have expired, then rotate.`,
        );
      }
      const made = newCaKey(acc.accountId, 'active');
      try {
        await db.transaction().execute(async (trx) => {
          await repo.setCaKeyState(trx, active.id, 'previous');
          const id = await repo.insertCaKey(trx, made.row);
          await audit.record(trx, ctx, {
            action: 'ssh_ca.rotate',
            accountId: acc.accountId,
            target: { type: 'ssh_ca', id, label: acc.accountName },
            details: { fingerprint: made.row.fingerprint_sha256, previous: active.fingerprint_sha256 },
          });
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', `The SSH CA of ${acc.accountName} was rotated by another request at the same moment.`, 'Read it again with GET …/ssh-ca.');
        throw err;
      }
      return repo.listCaKeys(db, acc.accountId);
    },

    async dropPrevious(ctx: RequestContext, account: string): Promise<void> {
      const acc = await accountFor(ctx, account, 'ssh_ca.manage');
      await db.transaction().execute(async (trx) => {
        const previous = await repo.findCaKey(trx, acc.accountId, 'previous');
        if (!previous) {
          throw new AppError('not_found', `Account ${acc.accountName} has no previous SSH CA key: only the active one is trusted.`, 'Nothing to do; POST …/ssh-ca/rotate makes one.');
        }
        await repo.deleteCaKey(trx, previous.id);
        await audit.record(trx, ctx, {
          action: 'ssh_ca.drop_previous',
          accountId: acc.accountId,
          target: { type: 'ssh_ca', id: previous.id, label: acc.accountName },
          details: { fingerprint: previous.fingerprint_sha256 },
        });
      });
    },

    /** A certificate for one of the caller's own SSH keys, in one of their accounts. */
    async issueUserCertificate(ctx: RequestContext, input: { publicKey: string; account?: string | undefined; ttlSeconds?: number | undefined }) {
      const user = requireUser(ctx.actor, 'SSH certificates for people', 'are signed for a person’s own SSH key');
      requireScope(ctx.actor, 'write:public_key', 'Asking for an SSH certificate');
      const acc = await access.resolve(ctx.actor, input.account === undefined ? { from: 'none' } : { from: 'path', name: input.account });
      const ttl = await policies.admitCertificateTtl(acc.accountId, ttlOf(input.ttlSeconds, USER_TTL, 'a user certificate', '24 hours'), input.ttlSeconds !== undefined);
      const subject = parseSubject(input.publicKey);
      const own = await repo.findOwnUserKey(db, user.userId, subject.fingerprintSha256);
      if (own && own.disabled_at !== null) {
        throw new AppError(
          'validation_failed',
          `Your SSH key ${subject.fingerprintSha256} was disabled on ${own.disabled_at} because it had gone unused, and Keysmith certifies only enabled keys.`,
          `Enable it again with POST /v1/user/ssh-keys/${own.id}/enable, then ask again.`,
          { field: 'public_key' },
        );
      }
      if (!own) {
        throw new AppError(
          'validation_failed',
          `The key ${subject.fingerprintSha256} is not one of your SSH keys, and Keysmith certifies only your own.`,
          'Add it first with POST /v1/user/ssh-keys {"key": "<the public key line>"}, then ask again.',
          { field: 'public_key' },
        );
      }
      return issue(ctx, acc, subject, {
        kind: 'user',
        keyId: `user:${user.login}`,
        principals: [user.login],
        ttl,
        userId: user.userId,
        projectId: null,
        serviceKeyId: null,
        label: `user:${user.login}`,
      });
    },

    /** A certificate for a key pair a CI job made for one job: runner keys only. */
    async issueRunnerCertificate(ctx: RequestContext, ref: ProjectRef, input: { publicKey: string; ttlSeconds?: number | undefined }) {
      const { project, access: acc } = await projects.find(ctx, ref, 'checkout_certificate.issue');
      if (!(await runnerLimits.mayReadProjectSecrets(ctx.actor, project.id))) throw notFound(`Project ${ref.vcs}/${ref.account}/${ref.name}`);
      const actor = ctx.actor;
      if (actor.type !== 'service') throw new Error('only a runner key holds checkout_certificate.issue');
      const ttl = await policies.admitCertificateTtl(acc.accountId, ttlOf(input.ttlSeconds, RUNNER_TTL, 'a runner certificate', '1 hour'), input.ttlSeconds !== undefined);
      const subject = parseSubject(input.publicKey);
      const slug = `${project.vcs}/${acc.accountName}/${project.name}`;
      const keyId = `runner:${actor.keyId}:${slug}`;
      return issue(ctx, acc, subject, {
        kind: 'runner',
        keyId,
        principals: [`deploy:${slug}`],
        ttl,
        userId: null,
        projectId: project.id,
        serviceKeyId: actor.keyId,
        label: keyId,
      });
    },

    async listOwn(ctx: RequestContext, limit: number) {
      const user = requireUser(ctx.actor, 'Your SSH certificates', 'belong to a person');
      return repo.listForUser(db, user.userId, limit);
    },

    async listForAccount(ctx: RequestContext, account: string, limit: number) {
      const acc = await accountFor(ctx, account, 'ssh_certificate.manage');
      return repo.listForAccount(db, acc.accountId, limit);
    },

    /** Revokes a certificate: its own user, or an owner or admin of the account. Revoking twice changes nothing. */
    async revoke(ctx: RequestContext, account: string, serial: number): Promise<void> {
      const acc = await access.resolve(ctx.actor, { from: 'path', name: account });
      const cert = await repo.findCertificate(db, acc.accountId, serial);
      const own = cert !== undefined && ctx.actor.type === 'user' && cert.user_id === ctx.actor.userId;
      if (own) requireScope(ctx.actor, 'write:public_key', 'Revoking your SSH certificate');
      else access.authorize(ctx.actor, acc, 'ssh_certificate.manage');
      if (!cert) throw notFound(`SSH certificate ${serial} of account ${acc.accountName}`);
      if (cert.revoked_at !== null) return;
      await db.transaction().execute(async (trx) => {
        await repo.revokeCertificate(trx, cert.id, clock.now().toISOString());
        await audit.record(trx, ctx, {
          action: 'ssh_certificate.revoke',
          accountId: acc.accountId,
          target: { type: 'ssh_certificate', id: cert.id, label: cert.key_id },
          details: { serial, key_id: cert.key_id },
        });
      });
    },

    /**
     * sshd's AuthorizedPrincipalsCommand (an ssh_server key of the account): the principal line of a
     * certificate that is known, signed by one of the account's trusted CA keys, unexpired and unrevoked,
     * whose user is still a live member (login mode: and is `user`). Empty otherwise. Read each time, never cached.
     */
    async authorizedPrincipals(
      ctx: RequestContext,
      selector: AccountSelector,
      query: { user: string; serial: number; ca: string; mode: 'login' | 'git'; command?: string | undefined },
    ): Promise<string> {
      const acc = access.authorizeServiceKey(ctx.actor, selector, 'ssh.lookup');
      if (query.mode === 'git' && query.command === undefined) {
        throw new AppError('validation_failed', 'In git mode the forced command is needed: add command=<absolute path of the git serve helper>.', undefined, { field: 'command' });
      }
      if (query.mode === 'login' && query.command !== undefined) {
        throw new AppError('validation_failed', 'command is for git mode only; drop it, or add mode=git.', undefined, { field: 'command' });
      }
      const live = await liveCertificate(acc.accountId, query.serial);
      if (!live || live.cert.ca_fingerprint_sha256 !== query.ca) return '';
      const { cert, principal } = live;
      if (cert.kind === 'user') {
        if (query.mode === 'login') return cert.login!.toLowerCase() === query.user.toLowerCase() ? `${principal}\n` : '';
      } else if (query.mode === 'login') {
        // A runner certificate never opens a shell.
        return '';
      }
      return `restrict,command="${query.command} cert-${cert.serial}" ${principal}\n`;
    },

    /**
     * Who `cert-<serial>` (from an authorized-principals line) is, for /v1/ssh/authorize: its user with
     * their role in the account, or the runner's project; undefined when the certificate no longer lets anyone in.
     */
    async certificateHolder(accountId: number, serial: number): Promise<CertificateHolder | undefined> {
      const live = await liveCertificate(accountId, serial);
      if (!live) return undefined;
      const { cert } = live;
      if (cert.kind === 'user') return { kind: 'user', login: cert.login!, role: cert.member_role! };
      return { kind: 'runner', projectId: cert.project_id!, vcs: cert.project_vcs!, name: cert.project_name! };
    },

    /** The account's KRL: every revoked serial, under each trusted CA key. Public. */
    async krl(account: string): Promise<Buffer> {
      const acc = await publicAccount(account);
      const [keys, serials] = await Promise.all([repo.listCaKeys(db, acc.id), repo.revokedSerials(db, acc.id)]);
      return encodeSshKrl({
        krlVersion: serials.length,
        generatedAt: seconds(clock.now()),
        comment: `keysmith ${acc.name}`,
        certificates: keys.map((k) => ({ ca: parseSshPublicKey(k.public_key), serials })),
      });
    },
  };
}

export type SshCaService = ReturnType<typeof createSshCaService>;
