// Users' logins and accounts' names share one namespace (both appear as `owner` in paths) and one rule.
import { AppError } from '../../errors.ts';

export const OWNER_NAME_PATTERN = '^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$';
export const OWNER_NAME_RULE = '1 to 39 letters, digits or single hyphens, not starting or ending with a hyphen';
const pattern = new RegExp(OWNER_NAME_PATTERN);

export function assertOwnerName(field: 'login' | 'name', value: string): void {
  if (!pattern.test(value)) {
    throw new AppError('validation_failed', `The ${field} "${value.slice(0, 39)}" is not valid: use ${OWNER_NAME_RULE}.`, undefined, { field });
  }
}

export const nameTaken = (field: 'login' | 'name', value: string): AppError =>
  new AppError('name_taken', `The name ${value} is already taken by a user or an account (names are compared without regard to case).`, 'Choose another name.', { field });
