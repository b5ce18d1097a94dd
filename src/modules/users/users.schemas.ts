import { Type } from 'typebox';
import { PageQuery } from '../../http/pagination.ts';
import { Nullable, OwnerName, PlainText, Timestamp } from '../../http/schemas.ts';
import { scopeNames, serviceRoles } from '../access/roles.ts';

const userFields = {
  id: Type.Integer(),
  login: Type.String(),
  name: Nullable(Type.String()),
  email: Nullable(Type.String()),
  site_admin: Type.Boolean(),
};

/** A user as site admins and the console session see them. */
export const User = Type.Object({
  ...userFields,
  disabled: Type.Boolean({ description: 'True while a site admin has disabled the user: none of their credentials work.' }),
  has_password: Type.Boolean({ description: 'Whether a console password is set.' }),
  created_at: Timestamp,
});

/** GET /v1/user's user: what the credential itself carries. */
const CallerUser = Type.Object({ ...userFields, created_at: Timestamp });

export const Caller = Type.Object({
  type: Type.Union([Type.Literal('user'), Type.Literal('service_key')]),
  user: Type.Optional(CallerUser),
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

export const UserListQuery = Type.Object(
  {
    ...PageQuery,
    login_prefix: Type.Optional(Type.String({ minLength: 1, maxLength: 39, description: 'Only users whose login starts with this (any case).' })),
  },
  { additionalProperties: false },
);

export const LoginParams = Type.Object({ login: Type.String({ minLength: 1, maxLength: 39 }) });

export const UserChangesBody = Type.Object(
  {
    name: Type.Optional(Nullable(PlainText(255))),
    email: Type.Optional(Nullable(Type.String({ maxLength: 254, format: 'email' }))),
    site_admin: Type.Optional(Type.Boolean()),
    disabled: Type.Optional(Type.Boolean({ description: 'true disables the user (every credential stops working, nothing is deleted); false enables them again.' })),
  },
  { additionalProperties: false },
);

const Password = (description: string) => Type.String({ minLength: 1, maxLength: 1024, description });
const Token = Type.String({ minLength: 1, maxLength: 512, description: 'The token of the set-password link.' });

export const ResetLink = Type.Object({ url: Type.String(), expires_at: Timestamp });
export const ResetLinkCheckBody = Type.Object({ token: Token }, { additionalProperties: false });
export const ResetLinkCheck = Type.Object({ login: Type.String(), expires_at: Timestamp });
export const SetPasswordBody = Type.Object({ token: Token, new_password: Password('At least 12 characters.') }, { additionalProperties: false });
export const ChangePasswordBody = Type.Object(
  { current_password: Type.Optional(Password('Your current password; may be left out only when none is set yet.')), new_password: Password('At least 12 characters.') },
  { additionalProperties: false },
);
