import { Type } from 'typebox';

export const CircleciError = Type.Object(
  {
    message: Type.String(),
    code: Type.Optional(Type.String()),
    field: Type.Optional(Type.String()),
    grant: Type.Optional(Type.String()),
    grant_url: Type.Optional(Type.String()),
  },
  { $id: 'CircleciError' },
);
export const circleciErrors = { '4xx': CircleciError, '5xx': CircleciError };

const Millis = Type.String({ description: 'ISO 8601 UTC with milliseconds, e.g. 2015-09-21T17:29:21.042Z' });

export const CheckoutKeyV1 = Type.Object({
  public_key: Type.String(),
  type: Type.String({ description: 'deploy-key, github-user-key or bitbucket-user-key' }),
  fingerprint: Type.String({ description: 'MD5, colon hex' }),
  fingerprint_sha256: Type.String(),
  preferred: Type.Boolean(),
  time: Millis,
});

export const CheckoutKeyV2 = Type.Object({
  'public-key': Type.String(),
  type: Type.String({ description: 'deploy-key or user-key' }),
  fingerprint: Type.String(),
  fingerprint_sha256: Type.String(),
  preferred: Type.Boolean(),
  'created-at': Millis,
});
export const CheckoutKeyListV2 = Type.Object({ items: Type.Array(CheckoutKeyV2), next_page_token: Type.Union([Type.String(), Type.Null()]) });

const typeField = Type.String({ minLength: 1, maxLength: 40, description: 'deploy-key or user-key (v1.1 also github-user-key, bitbucket-user-key)' });
const algorithm = Type.Optional(Type.Union([Type.Literal('ed25519'), Type.Literal('rsa')], { description: 'ed25519 (default) or rsa (4096 bits)' }));
export const NewCheckoutKeyBody = Type.Object({ type: typeField, algorithm }, { additionalProperties: false });

export const ProjectParamsV1 = Type.Object({
  vcs: Type.String({ minLength: 1, maxLength: 16 }),
  account: Type.String({ minLength: 1, maxLength: 39 }),
  project: Type.String({ minLength: 1, maxLength: 100 }),
});
const fingerprint = Type.String({ minLength: 1, maxLength: 100, description: 'MD5 (colon hex) or SHA256:… (URL-encoded)' });
export const FingerprintParamsV1 = Type.Object({ ...ProjectParamsV1.properties, fingerprint });
export const SlugParams = Type.Object({ slug: Type.String({ minLength: 5, maxLength: 160, description: 'gh/<account>/<project>, URL-encoded' }) });
export const SlugFingerprintParams = Type.Object({ ...SlugParams.properties, fingerprint });

export const NewHostKeyBody = Type.Object(
  {
    hostname: Type.String({ maxLength: 253, description: 'The host this key is for; empty for every host.' }),
    private_key: Type.String({ minLength: 1, maxLength: 16_384, description: 'The private key, unencrypted (OpenSSH or PEM).' }),
    expires_at: Type.Optional(Type.Union([Type.String({ format: 'date-time', maxLength: 40 }), Type.Null()], { description: "Keysmith's extra field: RFC 3339, at most 10 years ahead." })),
  },
  { additionalProperties: false },
);
export const HostKeyCreated = Type.Object({
  hostname: Type.String(),
  fingerprint: Type.String(),
  fingerprint_sha256: Type.String(),
  public_key: Type.String(),
  expires_at: Type.Union([Type.String(), Type.Null()]),
});
export const DeleteHostKeyBody = Type.Object({ fingerprint, hostname: Type.String({ maxLength: 253 }) }, { additionalProperties: false });
export const HerokuKeyBody = Type.Object({ apikey: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
export const HerokuStatus = Type.Object({ configured: Type.Boolean(), last4: Type.Union([Type.String(), Type.Null()]) });
export const Ok = Type.Object({ message: Type.Literal('ok') });
