// SSH public keys (README: the GitHub-compatible key API): users' own keys and projects' deploy keys. A key is parsed and
// fingerprinted before any transaction; a key exists once in the whole instance.
import type { Insertable } from 'kysely';
import { parseSshPublicKey, SshKeyError, type ParsedSshKey } from '../../crypto/ssh-public-key.ts';
import type { Db, Executor, SshKeysTable } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import { createLastUsedBuffer } from '../../db/last-used-buffer.ts';
import { AppError, notFound } from '../../errors.ts';
import { requireScope, requireUser } from '../access/access.service.ts';
import type { RequestContext } from '../access/actor.ts';
import type { AuditOrigin, AuditService } from '../audit/audit.service.ts';
import type { ProjectRef, ProjectService } from '../projects/projects.service.ts';
import type { UserService } from '../users/users.service.ts';
import type { PolicyGate } from '../policies/policies.service.ts';
import { parseExpiry } from '../policies/policy-rules.ts';
import { readAuthorizedKeys } from './authorized-keys.ts';
import * as repo from './ssh-keys.repo.ts';

/** An SSH key as the doors see it: the row, read_only a boolean, with the login of whoever added it, and whether it has expired. */
export type SshKey = repo.SshKeyRow & { expired: boolean };

export interface NewSshKey {
  title?: string | null;
  key: string;
  /** RFC 3339; absent or null: never expires (or the longest the policy allows). */
  expiresAt?: string | null | undefined;
}

/** What deleting an SSH key asks of the checkout-keys module, whose key may have this public half. */
export interface PublicHalfRemovalNotice {
  /** Called inside the deleting transaction, before the row goes (ON DELETE CASCADE takes the checkout key). */
  beforeSshKeyRemoved(trx: Executor, ctx: RequestContext, sshKeyId: number): Promise<void>;
}

/** What `keysmith import ssh-keys` did with each line of the text it read (the --json report). */
export interface KeyImportReport {
  user: string;
  imported: { line: number; id: number; type: string; bits: number; fingerprint: string; title: string }[];
  /** Keys already held: by this user (skipped), elsewhere on this server (not imported), or an earlier line. */
  duplicates: { line: number; fingerprint: string; of: 'own' | 'elsewhere' | 'earlier_line'; id?: number; same_as_line?: number; message: string }[];
  /** Lines the parser refused: the line range and its sentence, never the text of the line. */
  refused: { line: number; last_line: number; code: string; message: string }[];
  skipped: { blank: number; comments: number };
}

interface Deps {
  db: Db;
  projects: ProjectService;
  users: Pick<UserService, 'findByLogin'>;
  policies: Pick<PolicyGate, 'admitSshKey'>;
  checkoutKeys: PublicHalfRemovalNotice;
  audit: AuditService;
  clock: { now(): Date };
}

/** Parses pasted text; a refusal becomes the AppError of the same code, about the `key` field. */
export function parseKeyField(text: string): ParsedSshKey {
  try {
    return parseSshPublicKey(text);
  } catch (err) {
    if (err instanceof SshKeyError) throw new AppError(err.code, err.message, undefined, { field: 'key' });
    throw err;
  }
}

/** An SSH key's use is written at most once a minute: a login costs no write (README: Use Keysmith from sshd). */
export const KEY_USE_INTERVAL_MS = 60_000;

const defaultTitle = (parsed: ParsedSshKey): string => (parsed.comment ? parsed.comment.slice(0, 255) : `${parsed.type} ${parsed.fingerprintSha256}`);

export function createSshKeyService({ db, projects, users, policies, checkoutKeys, audit, clock }: Deps) {
  const uses = createLastUsedBuffer({ db, clock, write: repo.touchLastUsed, minIntervalMs: KEY_USE_INTERVAL_MS });
  /** Rows as the doors see them: `last_used_at` includes a use not yet written. */
  const withUse = <R extends { id: number; last_used_at: string | null; expires_at: string | null }>(row: R): R & { expired: boolean } => ({
    ...row,
    last_used_at: uses.merge(row.id, row.last_used_at),
    expired: row.expires_at !== null && Date.parse(row.expires_at) <= clock.now().getTime(),
  });

  function row(parsed: ParsedSshKey, title: string | null | undefined, owner: repo.KeyOwner, addedBy: number | null, readOnly: boolean, expiresAt: string | null = null): Insertable<SshKeysTable> {
    return {
      kind: owner.kind,
      user_id: owner.kind === 'user' ? owner.userId : null,
      project_id: owner.kind === 'deploy' ? owner.projectId : null,
      title: title?.trim() ? title.trim() : defaultTitle(parsed),
      key_type: parsed.type,
      public_key: parsed.key,
      fingerprint_sha256: parsed.fingerprintSha256,
      fingerprint_md5: parsed.fingerprintMd5,
      bits: parsed.bits,
      read_only: readOnly,
      added_by: addedBy,
      created_at: clock.now().toISOString(),
      expires_at: expiresAt,
    };
  }

  /** The duplicate sentence: name the id when the caller can see the key, nothing when they cannot. */
  async function duplicate(trx: Executor, fingerprint: string, owner: repo.KeyOwner, callerId: number | null): Promise<AppError> {
    const existing = await repo.findByFingerprint(trx, fingerprint);
    const mine =
      existing !== undefined && ((existing.kind === 'user' && existing.user_id === callerId) || (owner.kind === 'deploy' && existing.kind === 'deploy' && existing.project_id === owner.projectId));
    if (mine) {
      const where = existing.kind === 'user' ? 'on your account' : 'a deploy key of this repository';
      return new AppError(
        'key_in_use_by_you',
        `This key is already ${where}, as key ${existing.id}.`,
        `Nothing to do if you meant to add it here; to use it elsewhere, delete key ${existing.id} first and add it there.`,
        {
          field: 'key',
          extra: { id: existing.id },
        },
      );
    }
    return new AppError(
      'key_in_use_elsewhere',
      'This key is already in use elsewhere on this server; a key can belong to only one user or repository, because SSH identifies its owner by the key.',
      'Generate a new key pair for this purpose with ssh-keygen -t ed25519 -f <new file> and add the new .pub file instead.',
      { field: 'key' },
    );
  }

  /** Inserts one key with its audit row; a key that exists already becomes the right 422. */
  async function insertOne(
    ctx: AuditOrigin,
    values: Insertable<SshKeysTable>,
    owner: repo.KeyOwner,
    callerId: number | null,
    audited: { action: 'ssh_key.create' | 'deploy_key.create'; accountId: number | null; label: string },
  ) {
    try {
      return await db.transaction().execute(async (trx) => {
        if (await repo.findByFingerprint(trx, values.fingerprint_sha256)) throw await duplicate(trx, values.fingerprint_sha256, owner, callerId);
        const id = await repo.insertKey(trx, values);
        await audit.record(trx, ctx, {
          action: audited.action,
          accountId: audited.accountId,
          target: { type: 'ssh_key', id, label: audited.label },
          details: { fingerprint: values.fingerprint_sha256, title: values.title },
        });
        return withUse((await repo.findById(trx, id))!);
      });
    } catch (err) {
      // Two requests adding the same key at once: the unique index decides.
      if (isUniqueViolation(err)) throw await duplicate(db, values.fingerprint_sha256, owner, callerId);
      throw err;
    }
  }

  return {
    /** An SSH server matched this key (ssh-access): noted in memory, written by flushUses. */
    noteUse(id: number, stored: string | null): void {
      uses.touch(id, stored);
    },

    /** The SSH keys a policy covers (policies' violations list): an account's, or every one (null). */
    listForPolicy: (accountId: number | null) => repo.listForPolicy(db, accountId),

    /** Writes the noted uses (every few seconds, and at shutdown). */
    flushUses: () => uses.flush(),

    /**
     * The public half of a checkout key, written by the checkout-keys module inside its own
     * transaction; the caller has made the pair, so no parsing and no duplicate check here.
     */
    async insertPublicHalf(trx: Executor, values: Insertable<SshKeysTable>): Promise<number> {
      return repo.insertKey(trx, values);
    },

    /** Removes public halves by id; a checkout key whose half this is goes with it (ON DELETE CASCADE). */
    async removePublicHalves(trx: Executor, ids: number[]): Promise<void> {
      await repo.deleteKeys(trx, ids);
    },

    async listUserKeys(ctx: RequestContext, limit: number, offset: number) {
      const user = requireUser(ctx.actor, 'SSH keys');
      requireScope(ctx.actor, 'read:public_key', 'Listing your SSH keys');
      const owner = { kind: 'user' as const, userId: user.userId };
      const [rows, total] = await Promise.all([repo.listKeys(db, owner, limit, offset), repo.countKeys(db, owner)]);
      return { rows: rows.map(withUse), total };
    },

    async getUserKey(ctx: RequestContext, id: number) {
      const user = requireUser(ctx.actor, 'SSH keys');
      requireScope(ctx.actor, 'read:public_key', 'Reading your SSH keys');
      const key = await repo.findOwnedKey(db, { kind: 'user', userId: user.userId }, id);
      if (!key) throw notFound(`SSH key ${id}`);
      return withUse(key);
    },

    async addUserKey(ctx: RequestContext, input: NewSshKey) {
      const user = requireUser(ctx.actor, 'SSH keys');
      requireScope(ctx.actor, 'write:public_key', 'Adding an SSH key');
      const parsed = parseKeyField(input.key);
      // A user's own key answers to the instance policy; each account's ssh_servers apply theirs at lookup.
      const expiresAt = await policies.admitSshKey(null, { type: parsed.type, bits: parsed.bits, expiresAt: parseExpiry(input.expiresAt, clock.now()) });
      const owner = { kind: 'user' as const, userId: user.userId };
      return insertOne(ctx, row(parsed, input.title, owner, user.userId, false, expiresAt), owner, user.userId, { action: 'ssh_key.create', accountId: null, label: user.login });
    },

    async deleteUserKey(ctx: RequestContext, id: number) {
      const user = requireUser(ctx.actor, 'SSH keys');
      requireScope(ctx.actor, 'admin:public_key', 'Deleting an SSH key');
      await db.transaction().execute(async (trx) => {
        const key = await repo.findOwnedKey(trx, { kind: 'user', userId: user.userId }, id);
        if (!key) throw notFound(`SSH key ${id}`);
        await checkoutKeys.beforeSshKeyRemoved(trx, ctx, id);
        await repo.deleteKey(trx, id);
        await audit.record(trx, ctx, { action: 'ssh_key.delete', target: { type: 'ssh_key', id, label: user.login }, details: { fingerprint: key.fingerprint_sha256, title: key.title } });
      });
    },

    /** Anyone may read a user's public keys (as on GitHub); an unknown login is a 404. */
    async listPublicKeysOf(login: string, limit: number, offset: number) {
      const user = await users.findByLogin(db, login);
      if (!user) throw notFound(`User ${login}`);
      const owner = { kind: 'user' as const, userId: user.id };
      const [rows, total] = await Promise.all([repo.listKeys(db, owner, limit, offset), repo.countKeys(db, owner)]);
      return { rows: rows.map(withUse), total };
    },

    async listDeployKeys(ctx: RequestContext, ref: ProjectRef, limit: number, offset: number) {
      const { project } = await projects.find(ctx, ref, 'project.read');
      const owner = { kind: 'deploy' as const, projectId: project.id };
      const [rows, total] = await Promise.all([repo.listKeys(db, owner, limit, offset), repo.countKeys(db, owner)]);
      return { rows: rows.map(withUse), total };
    },

    async getDeployKey(ctx: RequestContext, ref: ProjectRef, id: number) {
      const { project } = await projects.find(ctx, ref, 'project.read');
      const key = await repo.findOwnedKey(db, { kind: 'deploy', projectId: project.id }, id);
      if (!key) throw notFound(`Deploy key ${id}`);
      return withUse(key);
    },

    async addDeployKey(ctx: RequestContext, ref: ProjectRef, input: NewSshKey & { readOnly?: boolean | undefined }) {
      const { project, access } = await projects.find(ctx, ref, 'project_key.write');
      const parsed = parseKeyField(input.key);
      const expiresAt = await policies.admitSshKey(access.accountId, { type: parsed.type, bits: parsed.bits, expiresAt: parseExpiry(input.expiresAt, clock.now()) });
      const owner = { kind: 'deploy' as const, projectId: project.id };
      const callerId = ctx.actor.type === 'user' ? ctx.actor.userId : null;
      return insertOne(ctx, row(parsed, input.title, owner, callerId, input.readOnly ?? true, expiresAt), owner, callerId, {
        action: 'deploy_key.create',
        accountId: access.accountId,
        label: `${project.vcs}/${access.accountName}/${project.name}`,
      });
    },

    async deleteDeployKey(ctx: RequestContext, ref: ProjectRef, id: number) {
      const { project, access } = await projects.find(ctx, ref, 'project_key.write');
      await db.transaction().execute(async (trx) => {
        const key = await repo.findOwnedKey(trx, { kind: 'deploy', projectId: project.id }, id);
        if (!key) throw notFound(`Deploy key ${id}`);
        await checkoutKeys.beforeSshKeyRemoved(trx, ctx, id);
        await repo.deleteKey(trx, id);
        await audit.record(trx, ctx, {
          action: 'deploy_key.delete',
          accountId: access.accountId,
          target: { type: 'ssh_key', id, label: `${project.vcs}/${access.accountName}/${project.name}` },
          details: { fingerprint: key.fingerprint_sha256, title: key.title },
        });
      });
    },

    /**
     * `keysmith import ssh-keys`: every key of an authorized_keys text the parser accepts, for one user,
     * with its audit row, in one transaction; a line refused or a key held elsewhere is reported and
     * left out, a key the user holds already is skipped. Any unexpected failure writes nothing.
     */
    async importAuthorizedKeys(origin: { cli: true }, login: string, text: string): Promise<KeyImportReport> {
      const user = await users.findByLogin(db, login);
      if (!user) throw new AppError('not_found', `There is no user with the login "${login}"; check the spelling, or create the user first.`);
      const read = readAuthorizedKeys(text);
      const report: KeyImportReport = { user: user.login, imported: [], duplicates: [], refused: [], skipped: { blank: read.blank, comments: read.comments } };
      const owner = { kind: 'user' as const, userId: user.id };
      const firstLineOf = new Map<string, number>();
      const candidates: { line: number; parsed: ParsedSshKey }[] = [];
      for (const entry of read.lines) {
        if (entry.kind === 'refused') {
          report.refused.push({ line: entry.line, last_line: entry.lastLine, code: entry.code, message: entry.message });
          continue;
        }
        const fingerprint = entry.parsed.fingerprintSha256;
        const earlier = firstLineOf.get(fingerprint);
        if (earlier !== undefined) {
          report.duplicates.push({ line: entry.line, fingerprint, of: 'earlier_line', same_as_line: earlier, message: `The same key as line ${earlier}.` });
          continue;
        }
        firstLineOf.set(fingerprint, entry.line);
        candidates.push(entry);
      }
      try {
        await db.transaction().execute(async (trx) => {
          const held = new Map((await repo.findOwnersOfFingerprints(trx, [...firstLineOf.keys()])).map((k) => [k.fingerprint_sha256, k]));
          const fresh: { line: number; values: Insertable<SshKeysTable> }[] = [];
          for (const { line, parsed } of candidates) {
            const existing = held.get(parsed.fingerprintSha256);
            if (!existing) fresh.push({ line, values: row(parsed, null, owner, null, false) });
            else if (existing.kind === 'user' && existing.user_id === user.id)
              report.duplicates.push({ line, fingerprint: parsed.fingerprintSha256, of: 'own', id: existing.id, message: `Already ${user.login}'s key ${existing.id}; skipped.` });
            else
              report.duplicates.push({
                line,
                fingerprint: parsed.fingerprintSha256,
                of: 'elsewhere',
                message: 'This key is already in use elsewhere on this server, and a key can belong to only one user or repository; generate a new key pair for this user instead.',
              });
          }
          const ids = new Map<string, number>();
          for (let i = 0; i < fresh.length; i += 500) {
            for (const r of await repo.insertKeysReturningIds(
              trx,
              fresh.slice(i, i + 500).map((f) => f.values),
            ))
              ids.set(r.fingerprint_sha256, r.id);
          }
          await audit.recordMany(
            trx,
            origin,
            fresh.map(({ values }) => ({
              action: 'ssh_key.create' as const,
              target: { type: 'ssh_key', id: ids.get(values.fingerprint_sha256)!, label: user.login },
              details: { fingerprint: values.fingerprint_sha256, title: values.title },
            })),
          );
          report.imported = fresh.map(({ line, values }) => ({
            line,
            id: ids.get(values.fingerprint_sha256)!,
            type: values.key_type,
            bits: values.bits,
            fingerprint: values.fingerprint_sha256,
            title: values.title,
          }));
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', 'Another change added one of these keys while the import ran; nothing was imported, so run the command again.');
        throw err;
      }
      report.duplicates.sort((a, b) => a.line - b.line);
      return report;
    },

    /**
     * Adds many keys to one user in one transaction (imports; the bulk benchmark). Every line is
     * parsed first; any bad or duplicate line refuses the whole batch, naming its position.
     */
    async importUserKeys(origin: AuditOrigin, userId: number, keys: NewSshKey[]) {
      const owner = { kind: 'user' as const, userId };
      const rows = keys.map((k, i) => {
        try {
          return row(parseKeyField(k.key), k.title, owner, userId, false);
        } catch (err) {
          if (err instanceof AppError) throw new AppError(err.code, `Key ${i + 1}: ${err.message}`, err.remedy, { field: `keys[${i}]` });
          throw err;
        }
      });
      const fingerprints = rows.map((r) => r.fingerprint_sha256);
      if (new Set(fingerprints).size !== fingerprints.length) throw new AppError('key_in_use_by_you', 'The same key appears twice in the batch.', 'List each key once.', { field: 'keys' });
      await db.transaction().execute(async (trx) => {
        const taken = await repo.findExistingFingerprints(trx, fingerprints);
        if (taken.length > 0)
          throw new AppError(
            'key_in_use_elsewhere',
            `${taken.length} of these keys are already in use on this server.`,
            'Leave those keys out, or generate new key pairs with ssh-keygen -t ed25519 for them.',
            { field: 'keys' },
          );
        // Chunks keep each statement under SQLite's bound-parameter limit.
        for (let i = 0; i < rows.length; i += 500) await repo.insertKeys(trx, rows.slice(i, i + 500));
        await audit.recordMany(
          trx,
          origin,
          rows.map((r) => ({ action: 'ssh_key.create' as const, target: { type: 'ssh_key', id: r.fingerprint_sha256 }, details: { fingerprint: r.fingerprint_sha256, title: r.title } })),
        );
      });
      return rows.length;
    },
  };
}

export type SshKeyService = ReturnType<typeof createSshKeyService>;
