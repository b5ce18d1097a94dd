// Start-up refuses when a stored secret was sealed with a master key the ring does not hold: the
// server would otherwise answer /healthz and then fail every request that opens that secret.
import type { KeyRing } from '../../crypto/envelope.ts';
import { MasterKeyError } from '../../crypto/master-key.ts';
import type { SealedTables } from './rotate.service.ts';

/** The master key ids named by stored secrets that the ring cannot open, sorted. */
export async function unconfiguredMasterKeys(sealedValues: SealedTables, ring: KeyRing): Promise<string[]> {
  const known = new Set([ring.current.id, ...ring.previous.map((k) => k.id)]);
  const used = new Set<string>();
  for (const table of Object.values(sealedValues)) for (const id of await table.masterKeyIds()) used.add(id);
  return [...used].filter((id) => !known.has(id)).sort();
}

export async function requireConfiguredMasterKeys(sealedValues: SealedTables, ring: KeyRing): Promise<void> {
  const missing = await unconfiguredMasterKeys(sealedValues, ring);
  if (missing.length === 0) return;
  const named = missing.length === 1 ? `master key ${missing[0]}, which is` : `master keys ${missing.join(', ')}, which are`;
  throw new MasterKeyError(
    'unconfigured_master_key',
    `The database holds secrets sealed with ${named} not configured (this server has ${ring.current.id}): set KEYSMITH_MASTER_KEY or KEYSMITH_MASTER_KEY_FILE to the key that sealed them, or KEYSMITH_PREVIOUS_MASTER_KEY or KEYSMITH_PREVIOUS_MASTER_KEY_FILE while a rotation runs.`,
  );
}
