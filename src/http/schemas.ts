// Schemas shared by the native routes: the error shape and bounded scalar types.
import { Type } from 'typebox';
import { errorCodes } from '../errors.ts';
import { OWNER_NAME_PATTERN, OWNER_NAME_RULE } from '../modules/users/owner-names.ts';

export const NativeError = Type.Object(
  {
    error: Type.Object({
      code: Type.Enum(errorCodes, { description: 'One of a closed set; each is explained at /docs/errors#<code>.' }),
      message: Type.String(),
      remedy: Type.Optional(Type.String()),
      field: Type.Optional(Type.String()),
      grant: Type.Optional(Type.String({ description: 'For grant_required: the grant the request needs, e.g. write:public_key.' })),
      grant_url: Type.Optional(Type.String({ description: 'For grant_required: the console page where the grant is given (Settings → Permissions, naming the project that asked).' })),
      rule: Type.Optional(Type.String({ description: 'For policy_violation: the policy field broken, e.g. ssh_key_types.' })),
      limit: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()], { description: 'For policy_violation: the value of that field.' })),
      docs_url: Type.Optional(Type.String({ description: "This code's entry in the error catalogue: <public url>/docs/errors#<code>." })),
    }),
    request_id: Type.String(),
  },
  { $id: 'NativeError', description: 'Every /v1 error. `code` is one of a closed set (see /docs/errors); `message` is a sentence a person can act on.' },
);

/** Declared on every native route so errors are documented and serialised by schema too. */
export const errorResponses = { '4xx': NativeError, '5xx': NativeError };

export const OwnerName = (description: string) => Type.String({ minLength: 1, maxLength: 39, pattern: OWNER_NAME_PATTERN, description: `${description} (${OWNER_NAME_RULE}).` });

/** Free text without control characters (names, titles): what one database stores, the other stores too. */
export const PLAIN_TEXT_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';
export const PlainText = (maxLength: number, options: { minLength?: number; description?: string } = {}) => Type.String({ maxLength, pattern: PLAIN_TEXT_PATTERN, ...options });

export const Timestamp = Type.String({ format: 'date-time', description: 'ISO 8601, UTC.' });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const IdParam = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
