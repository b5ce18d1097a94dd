// Native /v1 shapes of a project's checkout keys and the checkout-credentials of a runner.
import { Type } from 'typebox';
import { ProjectPathParams } from '../../http/native-params.ts';
import { Nullable, Timestamp } from '../../http/schemas.ts';

export const CheckoutKey = Type.Object({
  public_key: Type.String({ description: '<type> <base64> <comment>' }),
  type: Type.Union([Type.Literal('deploy'), Type.Literal('user')], { description: "deploy: a read-only deploy key of the project; user: a key on the creating user's own account" }),
  fingerprint_md5: Type.String({ description: 'MD5, colon hex' }),
  fingerprint_sha256: Type.String({ description: 'SHA256:…' }),
  preferred: Type.Boolean({ description: 'The key CI checks out with: the newest user key if any, else the newest deploy key' }),
  url: Type.String(),
  created_at: Timestamp,
});

export const NewCheckoutKeyBody = Type.Object(
  {
    type: Type.Union([Type.Literal('deploy'), Type.Literal('user')], { description: 'deploy, or user (needs your own user API key and your write:public_key grant)' }),
    algorithm: Type.Optional(Type.Union([Type.Literal('ed25519'), Type.Literal('rsa')], { description: 'ed25519 (default) or rsa (4096 bits)' })),
  },
  { additionalProperties: false },
);

export const CheckoutKeysParams = Type.Object(ProjectPathParams);
export const CheckoutKeyParams = Type.Object({
  ...ProjectPathParams,
  fingerprint: Type.String({ minLength: 1, maxLength: 100, description: 'SHA256:… (URL-encoded) or MD5 colon hex' }),
});

export const Credentials = Type.Object({
  checkout_key: Nullable(Type.Object({ fingerprint: Type.String(), fingerprint_sha256: Type.String(), type: Type.String(), private_key: Type.String() })),
  ssh_keys: Type.Array(Type.Object({ hostname: Type.String(), fingerprint: Type.String(), fingerprint_sha256: Type.String(), private_key: Type.String() })),
});
