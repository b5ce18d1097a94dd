// The policy's rules as pure functions: what a stored policy allows, which of two limits is lower,
// and what a credential about to be created (or presented to an SSH server) breaks. No I/O here.
import { ACCEPTED_KEY_TYPES, MIN_RSA_BITS } from '../../crypto/ssh-public-key.ts';
import { AppError } from '../../errors.ts';

export type { Policy } from './policy.types.ts';
import type { Policy } from './policy.types.ts';

export type PolicyRule = keyof Policy;

export const policyFields = [
  'api_key_max_lifetime_days',
  'ssh_key_max_lifetime_days',
  'ssh_key_types',
  'rsa_min_bits',
  'certificate_max_ttl_seconds',
  'disable_unused_after_days',
  'require_verified_ssh_keys',
] as const satisfies readonly PolicyRule[];

export const noLimits: Policy = {
  api_key_max_lifetime_days: null,
  ssh_key_max_lifetime_days: null,
  ssh_key_types: null,
  rsa_min_bits: null,
  certificate_max_ttl_seconds: null,
  disable_unused_after_days: null,
  require_verified_ssh_keys: null,
};

const DAY_MS = 86_400_000;
/** An expiry further ahead than this is refused as absurd (ten years, leap days included). */
export const MAX_EXPIRY_DAYS = 3653;
export const MAX_LIFETIME_DAYS = 3650;
export const MAX_RSA_BITS = 16_384;
export const MIN_CERT_TTL = 60;
export const MAX_CERT_TTL = 86_400;

const dayBounded = (field: PolicyRule, value: number | null, what: string) => {
  if (value === null) return;
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_LIFETIME_DAYS) {
    throw new AppError('validation_failed', `${field} must be a whole number of days from 1 to ${MAX_LIFETIME_DAYS} (${what}), or null for no limit.`, undefined, { field });
  }
};

/** Checks a policy as sent; every refusal is a sentence naming the field. Returns it normalised. */
export function validatePolicy(input: Partial<Record<PolicyRule, unknown>>): Policy {
  const p: Policy = { ...noLimits };
  for (const field of policyFields) if (Object.hasOwn(input, field) && input[field] !== undefined) (p as unknown as Record<string, unknown>)[field] = input[field];
  dayBounded('api_key_max_lifetime_days', p.api_key_max_lifetime_days, 'the longest an API key may live');
  dayBounded('ssh_key_max_lifetime_days', p.ssh_key_max_lifetime_days, 'the longest an SSH key may live');
  dayBounded('disable_unused_after_days', p.disable_unused_after_days, 'how long a credential may go unused');
  if (p.ssh_key_types !== null) {
    const known = ACCEPTED_KEY_TYPES as readonly string[];
    const unknown = p.ssh_key_types.filter((t) => !known.includes(t));
    if (unknown.length > 0 || p.ssh_key_types.length === 0) {
      throw new AppError(
        'validation_failed',
        `ssh_key_types must list one or more of ${known.join(', ')}${unknown.length ? `; ${unknown.map((t) => JSON.stringify(t.slice(0, 40))).join(', ')} is not among them` : ''}.`,
        'Send null to allow every type Keysmith accepts.',
        { field: 'ssh_key_types' },
      );
    }
    p.ssh_key_types = known.filter((t) => p.ssh_key_types!.includes(t));
  }
  if (p.rsa_min_bits !== null && (!Number.isSafeInteger(p.rsa_min_bits) || p.rsa_min_bits < MIN_RSA_BITS || p.rsa_min_bits > MAX_RSA_BITS)) {
    throw new AppError('validation_failed', `rsa_min_bits must be a whole number from ${MIN_RSA_BITS} (what Keysmith accepts anyway) to ${MAX_RSA_BITS}, or null.`, undefined, {
      field: 'rsa_min_bits',
    });
  }
  if (
    p.certificate_max_ttl_seconds !== null &&
    (!Number.isSafeInteger(p.certificate_max_ttl_seconds) || p.certificate_max_ttl_seconds < MIN_CERT_TTL || p.certificate_max_ttl_seconds > MAX_CERT_TTL)
  ) {
    throw new AppError('validation_failed', `certificate_max_ttl_seconds must be a whole number of seconds from ${MIN_CERT_TTL} to ${MAX_CERT_TTL} (24 hours), or null.`, undefined, {
      field: 'certificate_max_ttl_seconds',
    });
  }
  return p;
}

const lower = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
const higher = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/** The policy that holds when the instance's and an account's both apply: the stricter of each. */
export function stricter(a: Policy, b: Policy | undefined): Policy {
  if (!b) return a;
  const types = a.ssh_key_types === null ? b.ssh_key_types : b.ssh_key_types === null ? a.ssh_key_types : a.ssh_key_types.filter((t) => b.ssh_key_types!.includes(t));
  return {
    api_key_max_lifetime_days: lower(a.api_key_max_lifetime_days, b.api_key_max_lifetime_days),
    ssh_key_max_lifetime_days: lower(a.ssh_key_max_lifetime_days, b.ssh_key_max_lifetime_days),
    ssh_key_types: types,
    rsa_min_bits: higher(a.rsa_min_bits, b.rsa_min_bits),
    certificate_max_ttl_seconds: lower(a.certificate_max_ttl_seconds, b.certificate_max_ttl_seconds),
    disable_unused_after_days: lower(a.disable_unused_after_days, b.disable_unused_after_days),
    require_verified_ssh_keys: a.require_verified_ssh_keys || b.require_verified_ssh_keys ? true : null,
  };
}

export interface Violation {
  rule: PolicyRule;
  limit: string | number | boolean;
  message: string;
}

export function violationError(v: Violation, field?: string): AppError {
  return new AppError('policy_violation', v.message, 'Change the request to fit the policy, or ask an admin of the policy to change it.', {
    ...(field ? { field } : {}),
    extra: { rule: v.rule, limit: v.limit },
  });
}

export interface SshKeyFacts {
  type: string;
  bits: number;
  createdAt: string;
  expiresAt: string | null;
  verifiedAt: string | null;
  /**
   * A deploy key (checkout keys' public halves included) is a repository's, added by a repository admin
   * or made by Keysmith: there is no person to prove possession, so require_verified_ssh_keys is about
   * people's own keys only.
   */
  kind?: 'user' | 'deploy';
}

/**
 * What an SSH key breaks, the first rule found. `when` says which question is asked:
 * - 'create' and 'list': the key's planned life (created_at to expires_at; never expiring is
 *   forever) must fit ssh_key_max_lifetime_days;
 * - 'lookup': the key must be younger than that (an SSH server refuses it from then on), and
 *   verified when the policy asks (a key cannot be verified before it exists, so creation does not).
 */
export function sshKeyViolation(p: Policy, key: SshKeyFacts, now: Date, when: 'create' | 'list' | 'lookup'): Violation | undefined {
  if (p.ssh_key_types !== null && !p.ssh_key_types.includes(key.type)) {
    return { rule: 'ssh_key_types', limit: p.ssh_key_types.join(', '), message: `The policy rule ssh_key_types allows only ${p.ssh_key_types.join(', ')}, and this key is ${key.type}.` };
  }
  if (p.rsa_min_bits !== null && key.type === 'ssh-rsa' && key.bits < p.rsa_min_bits) {
    return { rule: 'rsa_min_bits', limit: p.rsa_min_bits, message: `The policy rule rsa_min_bits asks for RSA keys of at least ${p.rsa_min_bits} bits, and this key has ${key.bits}.` };
  }
  const max = p.ssh_key_max_lifetime_days;
  if (max !== null) {
    const latest = Date.parse(key.createdAt) + max * DAY_MS;
    const ends = key.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(key.expiresAt);
    const breaks = when === 'lookup' ? now.getTime() > latest : ends > latest;
    if (breaks) {
      const why = when === 'lookup' ? 'this key is older than that' : key.expiresAt === null ? 'this key never expires' : `this key expires ${key.expiresAt}, later than that`;
      return { rule: 'ssh_key_max_lifetime_days', limit: max, message: `The policy rule ssh_key_max_lifetime_days lets an SSH key live at most ${max} days, and ${why}.` };
    }
  }
  if (when !== 'create' && p.require_verified_ssh_keys && key.kind !== 'deploy' && key.verifiedAt === null) {
    return {
      rule: 'require_verified_ssh_keys',
      limit: true,
      message: 'The policy rule require_verified_ssh_keys accepts only SSH keys whose holder proved possession, and this key is not verified.',
    };
  }
  return undefined;
}

/** The expiry a new key gets: the one asked for, else the latest the policy allows (none: never). */
export function defaultExpiry(maxDays: number | null, asked: string | null, now: Date): string | null {
  if (asked !== null || maxDays === null) return asked;
  return new Date(now.getTime() + maxDays * DAY_MS).toISOString();
}

/** Whether an API key's expiry fits api_key_max_lifetime_days (a key that never expires does not). */
export function apiKeyViolation(p: Policy, createdAt: string, expiresAt: string | null): Violation | undefined {
  const max = p.api_key_max_lifetime_days;
  if (max === null) return undefined;
  const latest = Date.parse(createdAt) + max * DAY_MS;
  if (expiresAt !== null && Date.parse(expiresAt) <= latest) return undefined;
  return {
    rule: 'api_key_max_lifetime_days',
    limit: max,
    message: `The policy rule api_key_max_lifetime_days lets an API key live at most ${max} days, and this key ${expiresAt === null ? 'would never expire' : `would expire ${expiresAt}, later than that`}.`,
  };
}

/** Parses an optional expiry: a date-time in the future and at most ten years ahead; null/absent = never. */
export function parseExpiry(value: string | null | undefined, now: Date, field = 'expires_at'): string | null {
  if (value === null || value === undefined) return null;
  const when = new Date(value);
  if (value.length > 40 || Number.isNaN(when.getTime())) {
    throw new AppError('validation_failed', `The ${field} field must be an RFC 3339 date-time such as 2027-01-31T00:00:00Z.`, undefined, { field });
  }
  if (when.getTime() <= now.getTime()) throw new AppError('validation_failed', `The ${field} field must be in the future; ${when.toISOString()} has passed.`, undefined, { field });
  if (when.getTime() > now.getTime() + MAX_EXPIRY_DAYS * DAY_MS) {
    throw new AppError('validation_failed', `The ${field} field is more than 10 years ahead; send a nearer date, or leave ${field} out for a key that never expires.`, undefined, { field });
  }
  return when.toISOString();
}
