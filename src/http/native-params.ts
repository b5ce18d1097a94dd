// Path segments of the native key routes, checked before any service runs: the project a
// /v1/projects/{vcs}/{account}/{name}/… path names, and key ids in their canonical form only.
import { Type } from 'typebox';
import { AppError } from '../errors.ts';
import { parseVcs, type Vcs } from '../modules/projects/projects.service.ts';

/** The project a native path names, with the vcs already one of the closed vocabulary. */
export interface ProjectPath {
  vcs: Vcs;
  account: string;
  name: string;
}

export const ProjectPathParams = {
  vcs: Type.String({ minLength: 1, maxLength: 16, description: 'gh (also github) or bb (also bitbucket)' }),
  account: Type.String({ minLength: 1, maxLength: 39 }),
  name: Type.String({ minLength: 1, maxLength: 100 }),
};

export function projectPathOf(params: { vcs: string; account: string; name: string }): ProjectPath {
  const vcs = parseVcs(params.vcs);
  if (!vcs) {
    throw new AppError('validation_failed', `The path segment "vcs" must be gh (GitHub) or bb (Bitbucket), not "${params.vcs.slice(0, 16)}".`, undefined, { field: 'vcs' });
  }
  return { vcs, account: params.account, name: params.name };
}

const MAX_ID = 2_147_483_647;

/** A key id as a path segment: a string here, so that `0145`, `+145` or `145.0` are refused rather than coerced. */
export const KeyIdSegment = Type.String({ minLength: 1, maxLength: 10, description: 'The key id: a whole number from 1, written without leading zeros, signs or spaces.' });

export function keyIdOf(text: string): number {
  const id = /^[1-9][0-9]{0,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(id <= MAX_ID)) {
    throw new AppError('validation_failed', `The path segment "id" must be a key id such as 145: a whole number from 1 to ${MAX_ID}, without leading zeros, signs or spaces.`, undefined, {
      field: 'id',
    });
  }
  return id;
}
