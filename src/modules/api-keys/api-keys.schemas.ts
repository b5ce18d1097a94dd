import { Type } from 'typebox';
import { Nullable, NullableTimestamp, PlainText, Timestamp } from '../../http/schemas.ts';
import { scopeNames, serviceRoles } from '../access/roles.ts';

const ScopeName = Type.String({ minLength: 1, maxLength: 64, description: scopeNames.join(', ') });
const Scopes = Type.Array(Type.Enum(scopeNames));
const ServiceRole = Type.Enum(serviceRoles);

const keyFields = {
  id: Type.Integer(),
  name: Type.String(),
  start: Type.String({ description: 'The prefix and first four characters, to recognise the key by.' }),
  created_at: Timestamp,
  expires_at: NullableTimestamp,
  last_used_at: NullableTimestamp,
  scopes: Nullable(Scopes),
  rotated_from: Nullable(Type.Integer({ description: 'The key this one replaced by rotation; null for a key made afresh.' })),
  rotated_to: Nullable(Type.Integer({ description: 'Set once this key is rotated: the id of the key that replaced it.' })),
  stops_working_at: NullableTimestamp,
  disabled_at: Type.Union([Timestamp, Type.Null()], { description: 'Set while the key is disabled for going unused; POST …/enable turns it back on.' }),
};

export const UserApiKey = Type.Object(keyFields);
const serviceKeyFields = {
  role: ServiceRole,
  created_by: Nullable(Type.String()),
  projects: Nullable(
    Type.Array(Type.String(), {
      description:
        'A runner key limited to named projects: the slugs whose checkout credentials it may fetch (empty once they are all deleted: it reads nothing). null: every project of the account (and always for other roles).',
    }),
  ),
};
export const ServiceApiKey = Type.Object({ ...keyFields, ...serviceKeyFields });
const secret = { key: Type.String({ description: 'The secret. Shown in this response only; Keysmith keeps only its hash.' }) };
export const CreatedUserApiKey = Type.Object({ ...keyFields, ...secret });
export const CreatedServiceApiKey = Type.Object({ ...keyFields, ...serviceKeyFields, ...secret });

const newKeyFields = {
  name: PlainText(100, { minLength: 1 }),
  expires_at: Type.Optional(Nullable(Type.String({ format: 'date-time', maxLength: 40 }))),
  scopes: Type.Optional(Nullable(Type.Array(ScopeName, { maxItems: 16, description: 'Narrows the key below its role; omit for no restriction.' }))),
};
export const NewUserApiKeyBody = Type.Object(newKeyFields, { additionalProperties: false });
export const NewServiceApiKeyBody = Type.Object(
  {
    ...newKeyFields,
    role: Type.Enum(serviceRoles, { description: 'admin, read_write, read_only, runner (only an owner may create a runner key) or ssh_server (for an SSH server asking who may log in)' }),
    projects: Type.Optional(
      Nullable(
        Type.Array(PlainText(200, { minLength: 1 }), {
          maxItems: 100,
          description: "Runner keys only: the projects (<vcs>/<account>/<name>, of this key's account) whose private keys it may read. Omit or null for all.",
        }),
      ),
    ),
  },
  { additionalProperties: false },
);

export const RotateApiKeyBody = Type.Object(
  {
    grace_seconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 604_800, description: 'How long the old key keeps working, in seconds: 0 (at once) to 604800 (7 days); 86400 (one day) if left out.' }),
    ),
    expires_at: Type.Optional(Nullable(Type.String({ format: 'date-time', maxLength: 40, description: "The new key's expiry, as on create (the policy's longest lifetime applies)." }))),
  },
  { additionalProperties: false },
);
