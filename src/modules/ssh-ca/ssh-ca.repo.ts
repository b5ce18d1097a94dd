// The ssh_ca_keys and ssh_certificates tables (owned here), and the reads of other modules' tables
// this module needs (an account by name, a user's own SSH key, a membership): reads only.
import { sql, type Insertable } from 'kysely';
import type { Executor, SshCaKeysTable, SshCertificatesTable } from '../../db/schema.ts';

const caListed = ['id', 'account_id', 'state', 'public_key', 'fingerprint_sha256', 'created_at'] as const;

export async function findAccountByName(db: Executor, name: string) {
  return db.selectFrom('accounts').select(['id', 'name']).where('name_lower', '=', name.toLowerCase()).executeTakeFirst();
}

/** The account's CA keys, active first. */
export async function listCaKeys(db: Executor, accountId: number) {
  const rows = await db.selectFrom('ssh_ca_keys').select(caListed).where('account_id', '=', accountId).orderBy('id', 'desc').execute();
  return rows.sort((a, b) => (a.state === b.state ? 0 : a.state === 'active' ? -1 : 1));
}

export async function findCaKey(db: Executor, accountId: number, state: 'active' | 'previous') {
  return db
    .selectFrom('ssh_ca_keys')
    .select([...caListed, 'private_key_sealed'])
    .where('account_id', '=', accountId)
    .where('state', '=', state)
    .executeTakeFirst();
}

export async function insertCaKey(db: Executor, key: Insertable<SshCaKeysTable>): Promise<number> {
  return (await db.insertInto('ssh_ca_keys').values(key).returning('id').executeTakeFirstOrThrow()).id;
}

export async function setCaKeyState(db: Executor, id: number, state: 'active' | 'previous'): Promise<void> {
  await db.updateTable('ssh_ca_keys').set({ state }).where('id', '=', id).execute();
}

export async function deleteCaKey(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('ssh_ca_keys').where('id', '=', id).execute();
}

// --- master-key rotation ---

export async function listAllSealed(db: Executor) {
  return db.selectFrom('ssh_ca_keys').select(['id', 'account_id', 'fingerprint_sha256', 'private_key_sealed']).execute();
}

export async function findSealed(db: Executor, id: number) {
  return db.selectFrom('ssh_ca_keys').select('private_key_sealed').where('id', '=', id).executeTakeFirst();
}

export async function replaceSealed(db: Executor, id: number, before: string, after: string): Promise<boolean> {
  const result = await db.updateTable('ssh_ca_keys').set({ private_key_sealed: after }).where('id', '=', id).where('private_key_sealed', '=', before).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function distinctSealedPrefixes(db: Executor, length: number): Promise<string[]> {
  const rows = await db
    .selectFrom('ssh_ca_keys')
    .select(sql<string>`substr(private_key_sealed, 1, ${sql.lit(length)})`.as('prefix'))
    .distinct()
    .execute();
  return rows.map((r) => r.prefix);
}

// --- certificates ---

/** One of the user's own SSH keys (not a checkout key's public half), by fingerprint. */
export async function findOwnUserKey(db: Executor, userId: number, fingerprintSha256: string) {
  return db.selectFrom('ssh_keys').select(['id', 'disabled_at']).where('user_id', '=', userId).where('kind', '=', 'user').where('fingerprint_sha256', '=', fingerprintSha256).executeTakeFirst();
}

export async function lastSerial(db: Executor, accountId: number): Promise<number> {
  const row = await db
    .selectFrom('ssh_certificates')
    .select((eb) => eb.fn.max('serial').as('last'))
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return Number(row?.last ?? 0);
}

export async function insertCertificate(db: Executor, cert: Insertable<SshCertificatesTable>): Promise<number> {
  return (await db.insertInto('ssh_certificates').values(cert).returning('id').executeTakeFirstOrThrow()).id;
}

const certListed = [
  'ssh_certificates.id',
  'ssh_certificates.account_id',
  'ssh_certificates.serial',
  'ssh_certificates.kind',
  'ssh_certificates.user_id',
  'ssh_certificates.project_id',
  'ssh_certificates.service_key_id',
  'ssh_certificates.requested_by',
  'ssh_certificates.key_id',
  'ssh_certificates.principals',
  'ssh_certificates.key_type',
  'ssh_certificates.key_fingerprint_sha256',
  'ssh_certificates.ca_fingerprint_sha256',
  'ssh_certificates.valid_after',
  'ssh_certificates.valid_before',
  'ssh_certificates.created_at',
  'ssh_certificates.revoked_at',
] as const;

export type CertificateRow = Awaited<ReturnType<typeof findCertificate>> & {};

const withAccount = (db: Executor) =>
  db
    .selectFrom('ssh_certificates')
    .innerJoin('accounts', 'accounts.id', 'ssh_certificates.account_id')
    .select([...certListed, 'accounts.name as account_name']);

export async function findCertificate(db: Executor, accountId: number, serial: number) {
  return withAccount(db).where('ssh_certificates.account_id', '=', accountId).where('ssh_certificates.serial', '=', serial).executeTakeFirst();
}

export async function listForUser(db: Executor, userId: number, limit: number) {
  return withAccount(db).where('ssh_certificates.user_id', '=', userId).orderBy('ssh_certificates.id', 'desc').limit(limit).execute();
}

export async function listForAccount(db: Executor, accountId: number, limit: number) {
  return withAccount(db).where('ssh_certificates.account_id', '=', accountId).orderBy('ssh_certificates.serial', 'desc').limit(limit).execute();
}

export async function revokeCertificate(db: Executor, id: number, at: string): Promise<void> {
  await db.updateTable('ssh_certificates').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

export async function revokedSerials(db: Executor, accountId: number): Promise<number[]> {
  const rows = await db.selectFrom('ssh_certificates').select('serial').where('account_id', '=', accountId).where('revoked_at', 'is not', null).orderBy('serial').execute();
  return rows.map((r) => Number(r.serial));
}

/** The newest revocation time (the KRL's version changes whenever the list does). */
export async function revocationCount(db: Executor, accountId: number): Promise<number> {
  const row = await db
    .selectFrom('ssh_certificates')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is not', null)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** A certificate with its user's login, disabled state and current membership of the account: the online check. */
export async function findForCheck(db: Executor, accountId: number, serial: number) {
  return db
    .selectFrom('ssh_certificates')
    .leftJoin('users', 'users.id', 'ssh_certificates.user_id')
    .leftJoin('memberships', (join) => join.onRef('memberships.user_id', '=', 'ssh_certificates.user_id').onRef('memberships.account_id', '=', 'ssh_certificates.account_id'))
    .leftJoin('projects', 'projects.id', 'ssh_certificates.project_id')
    .select([...certListed, 'users.login', 'users.disabled_at', 'memberships.role as member_role', 'projects.vcs as project_vcs', 'projects.name as project_name'])
    .where('ssh_certificates.account_id', '=', accountId)
    .where('ssh_certificates.serial', '=', serial)
    .executeTakeFirst();
}
