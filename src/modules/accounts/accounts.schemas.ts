import { Type } from 'typebox';
import { Nullable, OwnerName, Timestamp } from '../../http/schemas.ts';
import { memberRoles, serviceRoles } from '../access/roles.ts';

const AnyRole = Type.Enum([...new Set([...memberRoles, ...serviceRoles])]);

export const Account = Type.Object({ name: Type.String(), role: AnyRole, created_at: Nullable(Timestamp) });
export const NewAccountBody = Type.Object({ name: OwnerName('The account name') }, { additionalProperties: false });
export const AccountParams = Type.Object({ account: Type.String({ minLength: 1, maxLength: 39 }) });
export const MemberParams = Type.Object({ account: Type.String({ minLength: 1, maxLength: 39 }), login: Type.String({ minLength: 1, maxLength: 39 }) });
export const Member = Type.Object({ login: Type.String(), name: Nullable(Type.String()), role: AnyRole, created_at: Timestamp });
export const MemberRoleBody = Type.Object({ role: Type.Enum(memberRoles, { description: 'owner, admin, read_write or read_only' }) }, { additionalProperties: false });
export const MembershipResult = Type.Object({ login: Type.String(), role: AnyRole });
