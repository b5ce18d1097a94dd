import { Type } from 'typebox';
import { CredentialQuery } from '../../http/pagination.ts';
import { Nullable, PlainText } from '../../http/schemas.ts';

/** What sshd's %f gives with its default FingerprintHash: `SHA256:` and 43 characters of unpadded base64. */
export const FINGERPRINT_PATTERN = '^SHA256:[A-Za-z0-9+/]{43}$';
export const FINGERPRINT_RULE = 'a SHA256 fingerprint as sshd gives it for %f, such as SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s (URL-encode its + and /)';
/** The forced command's absolute path: it is written into an authorized_keys line, so no quote or space may reach it. */
export const COMMAND_PATTERN = '^/[A-Za-z0-9/._-]*$';
export const COMMAND_RULE = 'an absolute path of letters, digits, /, ., _ and -, such as /usr/local/lib/keysmith/keysmith-git-serve';
/** A user key or deploy key as the authorized-keys line names it in git mode, or a certificate as the authorized-principals line does. */
export const KEY_REF_PATTERN = '^(key-[1-9][0-9]{0,9}|cert-[1-9][0-9]{0,14})$';
export const KEY_REF_RULE = 'key-<id> or cert-<serial> as the forced command of the authorized-keys or authorized-principals line gives it, such as key-145';
export const PROJECT_SLUG_PATTERN = '^[A-Za-z]{1,16}/[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$';
export const PROJECT_SLUG_RULE = '<vcs>/<account>/<name>, such as gh/acme/web';

export const AuthorizedKeysQuery = Type.Object(
  {
    ...CredentialQuery,
    user: PlainText(256, { minLength: 1, description: 'The Unix user sshd is logging in (%u). In login mode it must equal the key owner’s login; in git mode any value.' }),
    fingerprint: Type.String({ maxLength: 100, pattern: FINGERPRINT_PATTERN, description: 'The SHA256 fingerprint of the presented key (%f), URL-encoded.' }),
    mode: Type.Optional(
      Type.Union([Type.Literal('login'), Type.Literal('git')], {
        default: 'login',
        description: 'login (the default): the owner’s login must equal user; git: any member key or deploy key of the account.',
      }),
    ),
    command: Type.Optional(Type.String({ maxLength: 1024, pattern: COMMAND_PATTERN, description: 'git mode only, and required there: the forced command’s absolute path.' })),
  },
  { additionalProperties: false },
);

export const AuthorizeBody = Type.Object(
  {
    key: Type.String({ maxLength: 20, pattern: KEY_REF_PATTERN, description: 'key-<id> or cert-<serial>, from the forced command of the authorized-keys or authorized-principals line.' }),
    project: Type.String({ maxLength: 160, pattern: PROJECT_SLUG_PATTERN, description: 'The repository as a project slug <vcs>/<account>/<name>.' }),
    access: Type.Union([Type.Literal('read'), Type.Literal('write')], { description: 'read (clone, fetch, archive) or write (push).' }),
  },
  { additionalProperties: false },
);

export const Identity = Nullable(
  Type.Union([Type.Object({ type: Type.Literal('user'), login: Type.String() }), Type.Object({ type: Type.Literal('deploy_key'), project: Type.String(), read_only: Type.Boolean() })]),
);

export const Decision = Type.Object({
  allowed: Type.Boolean(),
  message: Type.String({ description: 'A sentence for the git user: what was allowed, or why not and what to do.' }),
  identity: Identity,
});

export const KeysFileParams = Type.Object({ login: Type.String({ minLength: 1, maxLength: 100 }) });

/** text/plain answers: authorized_keys lines. */
export const KeyLines = { content: { 'text/plain': { schema: Type.String({ description: 'authorized_keys lines, each ending in a newline; empty when nothing matches.' }) } } };
