// The reads behind an SSH server's questions. Each is one indexed read: the key by its unique
// SHA256 fingerprint (or its id), joined by primary keys to its owner, the owner's membership of the
// asking server's account, and the deploy key's project, and the account's and the instance's
// credential policies (by primary key). An expired key, or one disabled for going unused, does not
// match: both are conditions of the read. Nothing is cached: a deleted key, a removed member or a deleted project is gone from the
// next answer. This module owns no table and writes none.
import { readBool } from '../../db/dialect.ts';
import type { Executor } from '../../db/schema.ts';
import { noLimits, stricter, type Policy } from '../policies/policy-rules.ts';

function keysWithOwners(db: Executor, accountId: number, now: string) {
  return db
    .selectFrom('ssh_keys')
    .leftJoin('users', 'users.id', 'ssh_keys.user_id')
    .leftJoin('memberships', (join) => join.onRef('memberships.user_id', '=', 'ssh_keys.user_id').on('memberships.account_id', '=', accountId))
    .leftJoin('projects', 'projects.id', 'ssh_keys.project_id')
    .leftJoin('policies as account_policy', (join) => join.on('account_policy.scope', '=', `account:${accountId}`))
    .leftJoin('policies as instance_policy', (join) => join.on('instance_policy.scope', '=', 'instance'))
    .where((eb) => eb.or([eb('ssh_keys.expires_at', 'is', null), eb('ssh_keys.expires_at', '>', now)]))
    .where('ssh_keys.disabled_at', 'is', null)
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
      'ssh_keys.key_type',
      'ssh_keys.bits',
      'ssh_keys.created_at',
      'ssh_keys.expires_at',
      'ssh_keys.verified_at',
    ])
    .select(policyColumns('account_policy'))
    .select(policyColumns('instance_policy'));
}

/** A policy's limits under a prefix (`account_policy_rsa_min_bits`), so both policies come back in the one row. */
function policyColumns<T extends 'account_policy' | 'instance_policy'>(alias: T) {
  return [
    `${alias}.scope as ${alias}_scope`,
    `${alias}.ssh_key_max_lifetime_days as ${alias}_ssh_key_max_lifetime_days`,
    `${alias}.ssh_key_types as ${alias}_ssh_key_types`,
    `${alias}.rsa_min_bits as ${alias}_rsa_min_bits`,
    `${alias}.require_verified_ssh_keys as ${alias}_require_verified_ssh_keys`,
  ] as const;
}

/** The policy that holds for an account's SSH servers: its own and the instance's, the stricter of each. */
function policyOf(row: Record<string, unknown>): Policy {
  const one = (alias: 'account_policy' | 'instance_policy'): Policy | undefined =>
    row[`${alias}_scope`] == null
      ? undefined
      : {
          ...noLimits,
          ssh_key_max_lifetime_days: row[`${alias}_ssh_key_max_lifetime_days`] as number | null,
          ssh_key_types: row[`${alias}_ssh_key_types`] == null ? null : (JSON.parse(row[`${alias}_ssh_key_types`] as string) as string[]),
          rsa_min_bits: row[`${alias}_rsa_min_bits`] as number | null,
          require_verified_ssh_keys: row[`${alias}_require_verified_ssh_keys`] == null ? null : readBool(row[`${alias}_require_verified_ssh_keys`] as number | boolean),
        };
  return stricter(one('instance_policy') ?? noLimits, one('account_policy'));
}

/** A key with what decides whether it answers for the account: its owner's membership, or its project. */
export type KeyWithOwner = NonNullable<Awaited<ReturnType<typeof findKeyByFingerprint>>>;

const normalised = <R extends { kind: 'user' | 'deploy'; read_only: boolean | number; key_type: string; bits: number; created_at: string; expires_at: string | null; verified_at: string | null }>(
  row: R | undefined,
) =>
  row && {
    ...row,
    read_only: readBool(row.read_only),
    facts: { type: row.key_type, bits: row.bits, createdAt: row.created_at, expiresAt: row.expires_at, verifiedAt: row.verified_at, kind: row.kind },
    policy: policyOf(row as unknown as Record<string, unknown>),
  };

/** The login-time read, as a query (its plan is checked by a test: index searches only, no scan). */
export const keyByFingerprint = (db: Executor, accountId: number, fingerprintSha256: string, now: string) =>
  keysWithOwners(db, accountId, now).where('ssh_keys.fingerprint_sha256', '=', fingerprintSha256);

export async function findKeyByFingerprint(db: Executor, accountId: number, fingerprintSha256: string, now: string) {
  return normalised(await keyByFingerprint(db, accountId, fingerprintSha256, now).executeTakeFirst());
}

export async function findKeyById(db: Executor, accountId: number, id: number, now: string) {
  return normalised(await keysWithOwners(db, accountId, now).where('ssh_keys.id', '=', id).executeTakeFirst());
}

/**
 * A user (by lower-cased login) with their own SSH keys, oldest first: no rows when there is no such
 * user. A key disabled for going unused is left out: the file is often copied into authorized_keys.
 */
export async function findPublicKeysOf(db: Executor, loginLower: string) {
  return db
    .selectFrom('users')
    .leftJoin('ssh_keys', (join) => join.onRef('ssh_keys.user_id', '=', 'users.id').on('ssh_keys.kind', '=', 'user').on('ssh_keys.disabled_at', 'is', null))
    .select(['users.disabled_at', 'ssh_keys.public_key'])
    .where('users.login_lower', '=', loginLower)
    .orderBy('ssh_keys.id')
    .execute();
}
