// Proof of possession of a user's SSH key (README: Credential lifecycle → Proof of possession): Keysmith
// hands out a challenge, the holder signs it with `ssh-keygen -Y sign -n keysmith`, and a signature by
// exactly that key over exactly that challenge marks the key verified. A challenge lives 10 minutes and
// answers once; only its hashes are stored. The signature is checked before the transaction; the
// transaction only claims the challenge, sets verified_at and writes the audit row.
import { hash } from 'node:crypto';
import { randomBase62 } from '../../crypto/random.ts';
import { parseSshPublicKey } from '../../crypto/ssh-public-key.ts';
import { SshSigError, verifySshSig, type SshSigHash } from '../../crypto/sshsig.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import type { Db } from '../../db/schema.ts';
import { AppError, notFound } from '../../errors.ts';
import { requireScope, requireUser } from '../access/access.service.ts';
import type { RequestContext } from '../access/actor.ts';
import type { AuditService } from '../audit/audit.service.ts';
import * as challenges from './ssh-key-verification.repo.ts';
import * as repo from './ssh-keys.repo.ts';
import type { SshKey, SshKeyService } from './ssh-keys.service.ts';

export const VERIFICATION_NAMESPACE = 'keysmith';
export const CHALLENGE_TTL_MS = 10 * 60_000;

// Where ssh-keygen writes a key of each type by default: the file the command names.
const DEFAULT_KEY_FILE = new Map<string, string>([
  ['ssh-ed25519', '~/.ssh/id_ed25519'],
  ['ecdsa-sha2-nistp256', '~/.ssh/id_ecdsa'],
  ['ecdsa-sha2-nistp384', '~/.ssh/id_ecdsa'],
  ['ecdsa-sha2-nistp521', '~/.ssh/id_ecdsa'],
  ['sk-ssh-ed25519@openssh.com', '~/.ssh/id_ed25519_sk'],
  ['sk-ecdsa-sha2-nistp256@openssh.com', '~/.ssh/id_ecdsa_sk'],
  ['ssh-rsa', '~/.ssh/id_rsa'],
]);

/**
 * The line a person pastes into a shell. The signed message is the challenge's bytes exactly, with no
 * newline (printf '%s', not echo); the challenge is letters, digits, ':' and '-', safe in single quotes.
 */
export function signCommand(challenge: string, keyType: string): string {
  return `printf '%s' '${challenge}' | ssh-keygen -Y sign -n ${VERIFICATION_NAMESPACE} -f ${DEFAULT_KEY_FILE.get(keyType) ?? '~/.ssh/id_ed25519'}`;
}

export interface VerificationChallenge {
  challenge: string;
  namespace: string;
  expiresAt: string;
  command: string;
}

interface Deps {
  db: Db;
  keys: Pick<SshKeyService, 'getUserKey'>;
  audit: AuditService;
  clock: { now(): Date };
}

const retry = (id: number) => `Ask for a new challenge (POST /v1/user/ssh-keys/${id}/verification), sign it with the command it comes with, and send the signature within 10 minutes.`;

export function createSshKeyVerificationService({ db, keys, audit, clock }: Deps) {
  /** The caller's own user key, or a 404 (another person's key is not told apart from none). */
  async function ownKey(ctx: RequestContext, id: number) {
    const user = requireUser(ctx.actor, 'SSH keys');
    requireScope(ctx.actor, 'write:public_key', 'Verifying an SSH key');
    const key = await repo.findOwnedKey(db, { kind: 'user', userId: user.userId }, id);
    if (!key) throw notFound(`SSH key ${id}`);
    return { user, key };
  }

  return {
    /** A fresh challenge for one of the caller's keys; any earlier one for that key stops counting. */
    async issue(ctx: RequestContext, id: number): Promise<VerificationChallenge> {
      const { key } = await ownKey(ctx, id);
      const challenge = `keysmith-ssh-key-verification:${id}:${randomBase62(40)}`;
      const now = clock.now();
      const expiresAt = new Date(now.getTime() + CHALLENGE_TTL_MS).toISOString();
      try {
        await db.transaction().execute((trx) =>
          challenges.replaceChallenge(trx, {
            ssh_key_id: id,
            challenge_sha256: hash('sha256', challenge, 'hex'),
            challenge_sha512: hash('sha512', challenge, 'hex'),
            created_at: now.toISOString(),
            expires_at: expiresAt,
            used_at: null,
          }),
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', `Another challenge for SSH key ${id} was asked for at the same moment; ask again.`);
        throw err;
      }
      return { challenge, namespace: VERIFICATION_NAMESPACE, expiresAt, command: signCommand(challenge, key.key_type) };
    },

    /** Checks the armored signature against the key's live challenge; on success the key is verified. */
    async verify(ctx: RequestContext, id: number, signature: string): Promise<SshKey> {
      const { user, key } = await ownKey(ctx, id);
      const live = await challenges.findChallenge(db, id);
      if (!live) throw new AppError('challenge_invalid', `No challenge is waiting for SSH key ${id}, so there is nothing to check this signature against.`, retry(id), { field: 'signature' });
      if (live.used_at !== null) throw new AppError('challenge_invalid', `The challenge for SSH key ${id} has been answered already, and a challenge counts once.`, retry(id), { field: 'signature' });
      if (Date.parse(live.expires_at) <= clock.now().getTime()) {
        throw new AppError('challenge_invalid', `The challenge for SSH key ${id} expired at ${live.expires_at} (challenges last 10 minutes).`, retry(id), { field: 'signature' });
      }
      const messageHash = (h: SshSigHash) => Buffer.from(h === 'sha256' ? live.challenge_sha256 : live.challenge_sha512, 'hex');
      let checked: { algorithm: string };
      try {
        checked = verifySshSig(signature, { key: parseSshPublicKey(key.public_key), namespace: VERIFICATION_NAMESPACE, messageHash });
      } catch (err) {
        if (err instanceof SshSigError) throw new AppError(err.code, err.message, undefined, { field: 'signature' });
        throw err;
      }
      await db.transaction().execute(async (trx) => {
        if (!(await challenges.useChallenge(trx, id, live.challenge_sha256, clock.now().toISOString()))) {
          throw new AppError('challenge_invalid', `The challenge for SSH key ${id} was answered by another request at the same moment, and a challenge counts once.`, retry(id), {
            field: 'signature',
          });
        }
        await repo.setVerifiedAt(trx, id, clock.now().toISOString());
        await audit.record(trx, ctx, {
          action: 'ssh_key.verify',
          target: { type: 'ssh_key', id, label: user.login },
          details: { fingerprint: key.fingerprint_sha256, title: key.title, algorithm: checked.algorithm },
        });
      });
      return keys.getUserKey(ctx, id);
    },
  };
}

export type SshKeyVerificationService = ReturnType<typeof createSshKeyVerificationService>;
