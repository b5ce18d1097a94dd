// Native /v1 shapes of users' SSH keys and projects' deploy keys.
import { Type } from 'typebox';
import { PageQuery } from '../../http/pagination.ts';
import { KeyIdSegment, ProjectPathParams } from '../../http/native-params.ts';
import { Nullable, NullableTimestamp, PlainText, Timestamp } from '../../http/schemas.ts';

const keyFields = {
  id: Type.Integer(),
  title: Type.String(),
  key: Type.String({ description: '<type> <base64>, without the comment' }),
  type: Type.String({ description: 'The key type, e.g. ssh-ed25519' }),
  bits: Nullable(Type.Integer()),
  fingerprint_sha256: Type.String({ description: 'As ssh-keygen -l -E sha256 prints it' }),
  fingerprint_md5: Type.String({ description: 'As ssh-keygen -l -E md5 prints it, without the MD5: prefix' }),
  read_only: Type.Boolean(),
  url: Type.String(),
  created_at: Timestamp,
  last_used_at: NullableTimestamp,
  expires_at: Type.Union([Timestamp, Type.Null()], { description: 'Null: never expires.' }),
  expired: Type.Boolean({ description: 'True once expires_at has passed: SSH servers no longer accept the key.' }),
  verified: Type.Boolean({ description: 'True once the holder proved possession by signing a challenge (user keys; PUT …/verification).' }),
  verified_at: Type.Union([Timestamp, Type.Null()], { description: 'When possession was last proved; null: never.' }),
  disabled_at: Type.Union([Timestamp, Type.Null()], { description: 'Set while the key is disabled for going unused: SSH servers do not accept it until POST …/enable.' }),
};
export const SshKey = Type.Object(keyFields);
export const DeployKey = Type.Object({ ...keyFields, added_by: Nullable(Type.String({ description: 'The login of whoever added it' })) });

const keyText = Type.String({ minLength: 1, maxLength: 65_536, description: 'The public key: the contents of a .pub file.' });
const title = PlainText(255, { description: "Defaults to the key's comment." });
export const ExpiresAtField = Type.Optional(
  Type.Union([Type.String({ format: 'date-time', maxLength: 40 }), Type.Null()], { description: 'RFC 3339; in the future, at most 10 years ahead. Absent or null: never expires.' }),
);
export const NewSshKeyBody = Type.Object({ title: Type.Optional(title), key: keyText, expires_at: ExpiresAtField }, { additionalProperties: false });
export const NewDeployKeyBody = Type.Object(
  { title: Type.Optional(title), key: keyText, read_only: Type.Optional(Type.Boolean({ default: true, description: 'A read-only key (the default) cannot push.' })), expires_at: ExpiresAtField },
  { additionalProperties: false },
);

export const KeyListQuery = Type.Object(PageQuery, { additionalProperties: false });
export const UserKeyParams = Type.Object({ id: KeyIdSegment });
export const DeployKeysParams = Type.Object(ProjectPathParams);
export const DeployKeyParams = Type.Object({ ...ProjectPathParams, id: KeyIdSegment });

export const VerificationChallenge = Type.Object({
  challenge: Type.String({ description: 'The exact text to sign, without a newline.' }),
  namespace: Type.Literal('keysmith'),
  expires_at: Timestamp,
  command: Type.String({ description: 'The shell line that signs the challenge: printf … | ssh-keygen -Y sign -n keysmith -f <private key>; change the path if your key is elsewhere.' }),
});
export const VerificationBody = Type.Object(
  {
    signature: Type.String({ minLength: 1, maxLength: 16_384, description: 'The whole output of the command: -----BEGIN SSH SIGNATURE----- … -----END SSH SIGNATURE-----.' }),
  },
  { additionalProperties: false },
);
