// The reads behind an SSH server's questions. Each is one indexed read: the key by its unique
// SHA256 fingerprint (or its id), joined by primary keys to its owner, the owner's membership of the
// asking server's account, and the deploy key's project. Nothing is cached: a deleted key, a removed
// member or a deleted project is gone from the next answer. This module owns no table and writes none.
import { readBool } from '../../db/dialect.ts';
import type { Executor } from '../../db/schema.ts';

function keysWithOwners(db: Executor, accountId: number) {
  return db
    .selectFrom('ssh_keys')
    .leftJoin('users', 'users.id', 'ssh_keys.user_id')
    .leftJoin('memberships', (join) => join.onRef('memberships.user_id', '=', 'ssh_keys.user_id').on('memberships.account_id', '=', accountId))
    .leftJoin('projects', 'projects.id', 'ssh_keys.project_id')
    .select([
      'ssh_keys.id',
      'ssh_keys.kind',
      'ssh_keys.project_id',
      'ssh_keys.public_key',
      'ssh_keys.read_only',
      'ssh_keys.last_used_at',
      'users.login',
      'users.disabled_at',
      'memberships.role as member_role',
      'projects.account_id as project_account_id',
      'projects.vcs as project_vcs',
      'projects.name as project_name',
    ]);
}

/** A key with what decides whether it answers for the account: its owner's membership, or its project. */
export type KeyWithOwner = NonNullable<Awaited<ReturnType<typeof findKeyByFingerprint>>>;

const normalised = <R extends { read_only: boolean | number }>(row: R | undefined) => row && { ...row, read_only: readBool(row.read_only) };

/** The login-time read, as a query (its plan is checked by a test: index searches only, no scan). */
export const keyByFingerprint = (db: Executor, accountId: number, fingerprintSha256: string) => keysWithOwners(db, accountId).where('ssh_keys.fingerprint_sha256', '=', fingerprintSha256);

export async function findKeyByFingerprint(db: Executor, accountId: number, fingerprintSha256: string) {
  return normalised(await keyByFingerprint(db, accountId, fingerprintSha256).executeTakeFirst());
}

export async function findKeyById(db: Executor, accountId: number, id: number) {
  return normalised(await keysWithOwners(db, accountId).where('ssh_keys.id', '=', id).executeTakeFirst());
}

/** A user (by lower-cased login) with their own SSH keys, oldest first: no rows when there is no such user. */
export async function findPublicKeysOf(db: Executor, loginLower: string) {
  return db
    .selectFrom('users')
    .leftJoin('ssh_keys', (join) => join.onRef('ssh_keys.user_id', '=', 'users.id').on('ssh_keys.kind', '=', 'user'))
    .select(['users.disabled_at', 'ssh_keys.public_key'])
    .where('users.login_lower', '=', loginLower)
    .orderBy('ssh_keys.id')
    .execute();
}
