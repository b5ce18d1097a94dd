// The two writes of a credential going dormant and coming back, for the tables that hold keys whose
// use Keysmith sees (api_keys, ssh_keys: both have last_used_at, disabled_at and enabled_at). The
// owning module's repo calls them with its own table; nothing else writes those columns.
import type { Executor } from './schema.ts';

export type DormantCapableTable = 'api_keys' | 'ssh_keys';

/**
 * Disables the row if it is enabled and was neither used nor enabled after `activeAt` (a use flushed
 * or an enabling since the scheduler read it wins); says whether it did.
 */
export async function disableIfUnused(db: Executor, table: DormantCapableTable, id: number, activeAt: string, at: string): Promise<boolean> {
  // Both tables have these columns with these types; Kysely checks them against one of the two.
  const rows = await db
    .updateTable(table as 'api_keys')
    .set({ disabled_at: at })
    .where('id', '=', id)
    .where('disabled_at', 'is', null)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', activeAt)]))
    .where((eb) => eb.or([eb('enabled_at', 'is', null), eb('enabled_at', '<=', activeAt)]))
    .returning('id')
    .execute();
  return rows.length > 0;
}

/** Enables a disabled row, the unused period counting afresh from `at`; says whether it was disabled. */
export async function enable(db: Executor, table: DormantCapableTable, id: number, at: string): Promise<boolean> {
  const rows = await db
    .updateTable(table as 'api_keys')
    .set({ disabled_at: null, enabled_at: at })
    .where('id', '=', id)
    .where('disabled_at', 'is not', null)
    .returning('id')
    .execute();
  return rows.length > 0;
}
