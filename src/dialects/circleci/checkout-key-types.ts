// CircleCI's names for checkout-key types: v1.1 says deploy-key, github-user-key or
// bitbucket-user-key; v2 says deploy-key or user-key. Keysmith's modules know only deploy | user.
import { AppError } from '../../errors.ts';
import type { CheckoutKind } from '../../modules/checkout-keys/checkout-keys.service.ts';
import { parseVcs, type Vcs } from '../../modules/projects/projects.service.ts';

const typeNames: ReadonlyMap<string, { kind: CheckoutKind; onlyFor?: Vcs }> = new Map([
  ['deploy-key', { kind: 'deploy' }],
  ['user-key', { kind: 'user' }],
  ['github-user-key', { kind: 'user', onlyFor: 'gh' }],
  ['bitbucket-user-key', { kind: 'user', onlyFor: 'bb' }],
]);

const userKeyName: Record<Vcs, string> = { gh: 'github-user-key', bb: 'bitbucket-user-key' };
const vcsName: Record<Vcs, string> = { gh: 'GitHub', bb: 'Bitbucket' };

/**
 * The kind a request's `type` names, for a project whose vcs is written `vcsText` in the path. A
 * provider's user-key name on the other provider's project is refused, naming the one to use; an
 * unknown vcs is left for the project lookup to answer (404).
 */
export function parseCheckoutKeyType(value: string, vcsText: string): CheckoutKind {
  const known = typeNames.get(value);
  if (!known) {
    throw new AppError('validation_failed', `The checkout key type "${value.slice(0, 40)}" is not known; use one of: deploy-key, user-key (also github-user-key, bitbucket-user-key).`, undefined, {
      field: 'type',
    });
  }
  const vcs = parseVcs(vcsText);
  if (known.onlyFor && vcs && vcs !== known.onlyFor) {
    throw new AppError(
      'validation_failed',
      `The checkout key type "${value}" is for ${vcsName[known.onlyFor]} projects, and this is a ${vcsName[vcs]} project; use ${userKeyName[vcs]} (or user-key).`,
      undefined,
      { field: 'type' },
    );
  }
  return known.kind;
}

/** The v1.1 name of a key's type, which says the provider for a user key. */
export const v1TypeName = (kind: CheckoutKind, vcs: Vcs): string => (kind === 'deploy' ? 'deploy-key' : userKeyName[vcs]);

/** The v2 name of a key's type. */
export const v2TypeName = (kind: CheckoutKind): string => (kind === 'deploy' ? 'deploy-key' : 'user-key');
