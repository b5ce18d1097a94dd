// Master-key rotation: every sealed secret's data key is re-wrapped under the new master key; the
// secrets themselves are not re-encrypted. Each record is swapped only if it still holds the value
// that was read (compare-and-swap), so a server writing at the same moment loses nothing; servers
// keep working throughout as long as their ring holds both keys (see README: rotating the master key).
import { rewrap, sealedWith, type KeyRing, type MasterKey } from '../../crypto/envelope.ts';
import type { Db } from '../../db/schema.ts';
import type { AuditService } from '../audit/audit.service.ts';
import * as checkoutRepo from '../checkout-keys/checkout-keys.repo.ts';
import { checkoutKeyAad } from '../checkout-keys/checkout-keys.service.ts';
import * as hostRepo from '../host-keys/host-keys.repo.ts';
import { hostKeyAad } from '../host-keys/host-keys.service.ts';
import * as herokuRepo from '../integrations/heroku.repo.ts';
import { herokuKeyAad } from '../integrations/heroku.service.ts';

interface SealedRecord {
  sealed: string;
  aad: string;
  /** Writes `after` if the record still holds `before`. */
  swap(before: string, after: string): Promise<boolean>;
  /** The record's current sealed value, or undefined if it was deleted meanwhile. */
  reload(): Promise<string | undefined>;
}

export interface RotationReport {
  masterKeyId: string;
  rewrapped: { checkout_keys: number; host_keys: number; heroku_keys: number };
  alreadyCurrent: number;
}

export async function rotateMasterKey({ db, audit }: { db: Db; audit: AuditService }, ring: KeyRing, next: MasterKey): Promise<RotationReport> {
  const all = [ring.current, ...ring.previous].filter((k) => k.id !== next.id);
  const target: KeyRing = { current: next, previous: all };
  const report: RotationReport = { masterKeyId: next.id, rewrapped: { checkout_keys: 0, host_keys: 0, heroku_keys: 0 }, alreadyCurrent: 0 };

  const tables: Array<[keyof RotationReport['rewrapped'], () => Promise<SealedRecord[]>]> = [
    [
      'checkout_keys',
      async () =>
        (await checkoutRepo.listAllSealed(db)).map((r) => ({
          sealed: r.private_key_sealed,
          aad: checkoutKeyAad(r.project_id, r.fingerprint_sha256),
          swap: (before, after) => checkoutRepo.replaceSealed(db, r.id, before, after),
          reload: async () => (await checkoutRepo.findSealed(db, r.id))?.private_key_sealed,
        })),
    ],
    [
      'host_keys',
      async () =>
        (await hostRepo.listAllSealed(db)).map((r) => ({
          sealed: r.private_key_sealed,
          aad: hostKeyAad(r.project_id, r.hostname, r.fingerprint_sha256),
          swap: (before, after) => hostRepo.replaceSealed(db, r.id, before, after),
          reload: async () => (await hostRepo.findSealed(db, r.id))?.private_key_sealed,
        })),
    ],
    [
      'heroku_keys',
      async () =>
        (await herokuRepo.listAllSealed(db)).map((r) => ({
          sealed: r.sealed,
          aad: herokuKeyAad(r.user_id),
          swap: (before, after) => herokuRepo.replaceSealed(db, r.user_id, before, after),
          reload: async () => (await herokuRepo.findSealed(db, r.user_id))?.sealed,
        })),
    ],
  ];

  for (const [table, load] of tables) {
    for (const record of await load()) {
      let sealed: string | undefined = record.sealed;
      // A concurrent write replaced the value: read it again and re-wrap what is there now.
      while (sealed !== undefined) {
        if (sealedWith(sealed) === next.id) {
          report.alreadyCurrent++;
          break;
        }
        if (await record.swap(sealed, rewrap(target, sealed, record.aad))) {
          report.rewrapped[table]++;
          break;
        }
        sealed = await record.reload();
      }
    }
  }
  await db.transaction().execute((trx) =>
    audit.record(trx, { cli: true }, { action: 'master_key.rotate', target: { type: 'master_key', id: next.id }, details: { ...report.rewrapped, already_current: report.alreadyCurrent } }),
  );
  return report;
}
