import { Type } from 'typebox';
import { CredentialQuery } from '../../http/pagination.ts';
import { NullableTimestamp, Nullable, PlainText, Timestamp } from '../../http/schemas.ts';
import { COMMAND_PATTERN, FINGERPRINT_PATTERN } from '../ssh-access/ssh-access.schemas.ts';

export const AccountPath = Type.Object({ account: Type.String({ minLength: 1, maxLength: 39 }) });
export const CertificatePath = Type.Object({
  account: Type.String({ minLength: 1, maxLength: 39 }),
  serial: Type.String({ maxLength: 16, pattern: '^[1-9][0-9]{0,14}$', description: 'The certificate’s serial, a whole number from 1 (as ssh-keygen -L prints it).' }),
});

export const CaKeys = Type.Object({
  keys: Type.Array(
    Type.Object({
      public_key: Type.String({ description: 'The CA public key line, for TrustedUserCAKeys.' }),
      fingerprint_sha256: Type.String(),
      state: Type.Union([Type.Literal('active'), Type.Literal('previous')], { description: 'active signs new certificates; previous is still trusted until dropped.' }),
      created_at: Timestamp,
    }),
  ),
});

const publicKey = Type.String({ minLength: 1, maxLength: 16_384, description: 'The OpenSSH public key line to certify (ed25519, ECDSA or RSA).' });
const ttl = (text: string) => Type.Optional(Type.Integer({ description: text }));

export const UserCertificateBody = Type.Object(
  {
    public_key: publicKey,
    account: Type.Optional(Type.String({ minLength: 1, maxLength: 39, description: 'Whose CA signs: one of your accounts (needed when you belong to several).' })),
    ttl_seconds: ttl('How long the certificate is valid: 60 to 86400 seconds; 28800 (8 hours) by default.'),
  },
  { additionalProperties: false },
);

export const RunnerCertificateBody = Type.Object(
  { public_key: publicKey, ttl_seconds: ttl('How long the certificate is valid: 60 to 3600 seconds; 600 (10 minutes) by default.') },
  { additionalProperties: false },
);

export const IssuedCertificate = Type.Object({
  serial: Type.Integer(),
  key_id: Type.String(),
  principals: Type.Array(Type.String()),
  valid_after: Timestamp,
  valid_before: Timestamp,
  certificate: Type.String({ description: 'One line, `<type>-cert-v01@openssh.com <base64>`: the contents of id_<type>-cert.pub.' }),
});

export const CertificateRecord = Type.Object({
  serial: Type.Integer(),
  account: Type.String(),
  kind: Type.Union([Type.Literal('user'), Type.Literal('runner')]),
  key_id: Type.String(),
  principals: Type.Array(Type.String()),
  key_type: Type.String(),
  key_fingerprint_sha256: Type.String(),
  ca_fingerprint_sha256: Type.String(),
  valid_after: Timestamp,
  valid_before: Timestamp,
  requested_by: Type.String({ description: 'Who asked: "user <login>" or "service key <name> (<id>)".' }),
  created_at: Timestamp,
  revoked_at: NullableTimestamp,
  project_id: Nullable(Type.Integer()),
});

export const ListQuery = Type.Object(
  { ...CredentialQuery, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Newest first; at most 1000.' })) },
  { additionalProperties: false },
);

export const AuthorizedPrincipalsQuery = Type.Object(
  {
    ...CredentialQuery,
    user: PlainText(256, { minLength: 1, description: 'The Unix user sshd is logging in (%u). In login mode it must equal the certificate user’s login.' }),
    serial: Type.String({ maxLength: 16, pattern: '^[1-9][0-9]{0,14}$', description: 'The certificate’s serial (%s).' }),
    ca: Type.String({ maxLength: 100, pattern: FINGERPRINT_PATTERN, description: 'The SHA256 fingerprint of the CA key that signed it (%F), URL-encoded.' }),
    mode: Type.Optional(Type.Union([Type.Literal('login'), Type.Literal('git')], { default: 'login', description: 'login (the default) or git.' })),
    command: Type.Optional(Type.String({ maxLength: 1024, pattern: COMMAND_PATTERN, description: 'git mode only, and required there: the forced command’s absolute path.' })),
  },
  { additionalProperties: false },
);
