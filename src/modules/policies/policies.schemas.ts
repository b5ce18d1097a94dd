import { Type } from 'typebox';
import { ACCEPTED_KEY_TYPES } from '../../crypto/ssh-public-key.ts';
import { Nullable, NullableTimestamp, OwnerName } from '../../http/schemas.ts';

const days = (description: string) => Type.Optional(Nullable(Type.Integer({ description: `${description}; null: no limit.` })));

/** Every field optional; a field left out or null is no limit. Ranges are checked with sentences by the service. */
export const PolicyBody = Type.Object(
  {
    api_key_max_lifetime_days: days('The longest an API key may live, in days (1 to 3650)'),
    ssh_key_max_lifetime_days: days('The longest an SSH key may live, in days (1 to 3650)'),
    ssh_key_types: Type.Optional(
      Nullable(Type.Array(Type.String({ maxLength: 64 }), { maxItems: ACCEPTED_KEY_TYPES.length * 2, description: `Allowed SSH key types, from ${ACCEPTED_KEY_TYPES.join(', ')}` })),
    ),
    rsa_min_bits: days('The smallest RSA key allowed, in bits (2048 to 16384)'),
    certificate_max_ttl_seconds: days('The longest SSH certificate, in seconds (60 to 86400)'),
    disable_unused_after_days: days('Days unused after which a credential is disabled (stored now, enforced in a later version)'),
    require_verified_ssh_keys: Type.Optional(Nullable(Type.Boolean({ description: 'SSH servers accept only keys whose holder proved possession' }))),
  },
  { additionalProperties: false },
);

export const PolicyView = Type.Object({
  api_key_max_lifetime_days: Nullable(Type.Integer()),
  ssh_key_max_lifetime_days: Nullable(Type.Integer()),
  ssh_key_types: Nullable(Type.Array(Type.String())),
  rsa_min_bits: Nullable(Type.Integer()),
  certificate_max_ttl_seconds: Nullable(Type.Integer()),
  disable_unused_after_days: Nullable(Type.Integer()),
  require_verified_ssh_keys: Nullable(Type.Boolean()),
  updated_at: NullableTimestamp,
});

export const PolicyAccountParams = Type.Object({ account: OwnerName('The account') });

export const PolicyViolationView = Type.Object({
  kind: Type.Union([Type.Literal('ssh_key'), Type.Literal('deploy_key'), Type.Literal('host_key'), Type.Literal('user_api_key'), Type.Literal('service_api_key')]),
  id: Type.Integer(),
  name: Type.String({ description: 'The title of an SSH key, the host of a per-host key, the name of an API key' }),
  fingerprint: Type.String({ description: "An SSH key's SHA256 fingerprint, or an API key's start" }),
  rule: Type.String(),
  limit: Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
});
