import { Type } from 'typebox';
import { PageQuery } from '../../http/pagination.ts';
import { Nullable, PlainText } from '../../http/schemas.ts';

export const GithubError = Type.Object(
  {
    message: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ resource: Type.String(), field: Type.String(), code: Type.String(), message: Type.String() }))),
    documentation_url: Type.String(),
  },
  { $id: 'GithubError' },
);
export const githubErrors = { '4xx': GithubError, '5xx': GithubError };

/** GitHub's timestamps: ISO 8601 UTC without milliseconds. */
const Time = Type.String({ description: 'ISO 8601 UTC without milliseconds, e.g. 2014-12-10T15:53:42Z' });

const keyFields = {
  id: Type.Integer(),
  key: Type.String({ description: '<type> <base64>, without the comment' }),
  url: Type.String(),
  title: Type.String(),
  verified: Type.Boolean({ description: 'User keys: true once the holder proved possession (Keysmith: PUT /v1/user/ssh-keys/{id}/verification). Deploy keys: always true.' }),
  verified_at: Nullable(Type.String({ description: "Keysmith's extra field: when possession was last proved (null: never)" })),
  created_at: Time,
  read_only: Type.Boolean(),
  last_used: Nullable(Time),
  fingerprint: Type.String({ description: 'SHA256 fingerprint, as ssh-keygen -l -E sha256 prints it' }),
  expires_at: Nullable(Type.String({ description: "Keysmith's extra field: when the key stops working (null: never)" })),
  expired: Type.Boolean({ description: "Keysmith's extra field: true once expires_at has passed" }),
};
export const UserKey = Type.Object(keyFields);
export const DeployKey = Type.Object({ ...keyFields, added_by: Nullable(Type.String()) });
export const PublicKey = Type.Object({ id: Type.Integer(), key: Type.String() });

export const GithubUser = Type.Object({
  login: Type.String(),
  id: Type.Integer(),
  type: Type.Literal('User'),
  site_admin: Type.Boolean(),
  name: Nullable(Type.String()),
  email: Nullable(Type.String()),
  url: Type.String(),
  created_at: Time,
});

const keyText = Type.String({ minLength: 1, maxLength: 65_536, description: 'The public key: the contents of a .pub file.' });
const title = PlainText(255);
const expiresAt = Type.Optional(Nullable(Type.String({ format: 'date-time', maxLength: 40, description: "Keysmith's extra field: RFC 3339, at most 10 years ahead" })));
export const NewUserKeyBody = Type.Object({ title: Type.Optional(title), key: keyText, expires_at: expiresAt }, { additionalProperties: false });
export const NewDeployKeyBody = Type.Object(
  { title: Type.Optional(title), key: keyText, read_only: Type.Optional(Type.Boolean({ default: true })), expires_at: expiresAt },
  { additionalProperties: false },
);

export const ListQuery = Type.Object(PageQuery, { additionalProperties: false });
export const KeyIdParams = Type.Object({ key_id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
export const UsernameParams = Type.Object({ username: Type.String({ minLength: 1, maxLength: 39 }) });
export const RepoParams = Type.Object({ owner: Type.String({ minLength: 1, maxLength: 39 }), repo: Type.String({ minLength: 1, maxLength: 100 }) });
export const RepoKeyParams = Type.Object({ ...RepoParams.properties, ...KeyIdParams.properties });
