import { Type } from 'typebox';
import { Nullable, OwnerName, PlainText, Timestamp } from '../../http/schemas.ts';
import { scopeNames, serviceRoles } from '../access/roles.ts';

export const User = Type.Object({
  id: Type.Integer(),
  login: Type.String(),
  name: Nullable(Type.String()),
  email: Nullable(Type.String()),
  site_admin: Type.Boolean(),
  created_at: Timestamp,
});

export const Caller = Type.Object({
  type: Type.Union([Type.Literal('user'), Type.Literal('service_key')]),
  user: Type.Optional(User),
  service_key: Type.Optional(
    Type.Object({
      id: Type.Integer(),
      name: Type.String(),
      role: Type.Enum(serviceRoles),
      scopes: Nullable(Type.Array(Type.Enum(scopeNames))),
      account: Type.Object({ name: Type.String() }),
    }),
  ),
});

export const NewUserBody = Type.Object(
  {
    login: OwnerName("The new user's login"),
    email: Type.Optional(Type.String({ maxLength: 254, format: 'email' })),
    name: Type.Optional(PlainText(255)),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'At least 12 characters; for the console.' })),
  },
  { additionalProperties: false },
);
