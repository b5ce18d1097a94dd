import type { Selectable } from 'kysely';
import { readBool } from '../../db/dialect.ts';
import type { Executor, PoliciesTable } from '../../db/schema.ts';
import type { Policy } from './policy-rules.ts';

export const INSTANCE_SCOPE = 'instance';
export const accountScope = (accountId: number): string => `account:${accountId}`;

/** A stored row as a Policy: the type list decoded, the flag a boolean. */
export function toPolicy(row: Pick<Selectable<PoliciesTable>, keyof Policy>): Policy {
  return {
    api_key_max_lifetime_days: row.api_key_max_lifetime_days,
    ssh_key_max_lifetime_days: row.ssh_key_max_lifetime_days,
    ssh_key_types: row.ssh_key_types === null ? null : (JSON.parse(row.ssh_key_types) as string[]),
    rsa_min_bits: row.rsa_min_bits,
    certificate_max_ttl_seconds: row.certificate_max_ttl_seconds,
    disable_unused_after_days: row.disable_unused_after_days,
    require_verified_ssh_keys: row.require_verified_ssh_keys === null ? null : readBool(row.require_verified_ssh_keys),
  };
}

export async function findPolicy(db: Executor, scope: string) {
  const row = await db.selectFrom('policies').selectAll().where('scope', '=', scope).executeTakeFirst();
  return row && { ...toPolicy(row), updated_at: row.updated_at };
}

/** Both policies that hold for an account, in one read. */
export async function findPolicies(db: Executor, accountId: number | null) {
  const scopes = accountId === null ? [INSTANCE_SCOPE] : [INSTANCE_SCOPE, accountScope(accountId)];
  const rows = await db.selectFrom('policies').selectAll().where('scope', 'in', scopes).execute();
  const of = (scope: string) => {
    const row = rows.find((r) => r.scope === scope);
    return row && toPolicy(row);
  };
  return { instance: of(INSTANCE_SCOPE), account: accountId === null ? undefined : of(accountScope(accountId)) };
}

export async function savePolicy(db: Executor, scope: string, accountId: number | null, policy: Policy, updatedBy: number | null, at: string): Promise<void> {
  const values = { ...policy, ssh_key_types: policy.ssh_key_types === null ? null : JSON.stringify(policy.ssh_key_types), updated_by: updatedBy, updated_at: at };
  await db
    .insertInto('policies')
    .values({ scope, account_id: accountId, ...values })
    .onConflict((oc) => oc.column('scope').doUpdateSet(values))
    .execute();
}

/** Every policy that disables unused credentials: the instance's (account_id null) and accounts'. */
export async function listDormancyLimits(db: Executor) {
  return db.selectFrom('policies').select(['account_id', 'disable_unused_after_days']).where('disable_unused_after_days', 'is not', null).execute();
}
