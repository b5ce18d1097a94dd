// Master-key rotation: every sealed secret's data key is re-wrapped under the new master key; the
// secrets themselves are not re-encrypted. Each record is swapped only if it still holds the value
// that was read (compare-and-swap), so a server writing at the same moment loses nothing; servers
// keep working throughout as long as their ring holds both keys (see README: rotating the master key).
import { rewrap, sealedWith, type KeyRing, type MasterKey } from '../../crypto/envelope.ts';
import type { Db } from '../../db/schema.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { SealedValues } from './sealed-values.ts';

/** Every table that holds sealed values, and how the rotation's report names it. */
export const sealedTableNames = {
  checkout_keys: 'checkout keys',
  host_keys: 'host keys',
  heroku_keys: 'Heroku keys',
  ssh_ca_keys: 'SSH CA keys',
  webhooks: 'webhook secrets',
  api_key_rotation_replays: 'sealed rotation replays',
} as const;
export type SealedTable = keyof typeof sealedTableNames;
const sealedTableList = Object.keys(sealedTableNames) as SealedTable[];

/** Each table of sealed values, from the module that owns it (wired in services.ts). */
export type SealedTables = Record<SealedTable, SealedValues<number>>;

export interface RotationReport {
  masterKeyId: string;
  rewrapped: Record<SealedTable, number>;
  alreadyCurrent: number;
}

export async function rotateMasterKey({ db, audit, sealedValues }: { db: Db; audit: AuditService; sealedValues: SealedTables }, ring: KeyRing, next: MasterKey): Promise<RotationReport> {
  const all = [ring.current, ...ring.previous].filter((k) => k.id !== next.id);
  const target: KeyRing = { current: next, previous: all };
  const rewrapped = Object.fromEntries(sealedTableList.map((t) => [t, 0])) as Record<SealedTable, number>;
  const report: RotationReport = { masterKeyId: next.id, rewrapped, alreadyCurrent: 0 };

  for (const table of sealedTableList) {
    const store = sealedValues[table];
    for (const record of await store.listSealed()) {
      let sealed: string | undefined = record.sealed;
      // A concurrent write replaced the value: read it again and re-wrap what is there now.
      while (sealed !== undefined) {
        if (sealedWith(sealed) === next.id) {
          report.alreadyCurrent++;
          break;
        }
        if (await store.replaceSealed(record.id, sealed, rewrap(target, sealed, record.aad))) {
          report.rewrapped[table]++;
          break;
        }
        sealed = await store.findSealed(record.id);
      }
    }
  }
  await db
    .transaction()
    .execute((trx) =>
      audit.record(trx, { cli: true }, { action: 'master_key.rotate', target: { type: 'master_key', id: next.id }, details: { ...report.rewrapped, already_current: report.alreadyCurrent } }),
    );
  return report;
}
