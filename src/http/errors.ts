// Turns anything thrown while serving a request into an AppError, and renders the native /v1 shape.
// Dialects call toAppError too and render the same error in their own shape.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isUnstorableText } from '../db/dialect.ts';
import { AppError, errorDocsUrl, isAppError } from '../errors.ts';
import { OWNER_NAME_PATTERN, OWNER_NAME_RULE } from '../modules/users/owner-names.ts';
import { PROJECT_NAME_PATTERN } from '../modules/projects/projects.service.ts';
import { PLAIN_TEXT_PATTERN } from './schemas.ts';
import * as ssh from '../modules/ssh-access/ssh-access.schemas.ts';

interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Sentences for the patterns our schemas use, so a pattern failure reads as a rule, not a regex. */
const patternRules: ReadonlyMap<string, string> = new Map([
  [OWNER_NAME_PATTERN, OWNER_NAME_RULE],
  [PROJECT_NAME_PATTERN, '1 to 100 letters, digits, dots, hyphens or underscores'],
  [PLAIN_TEXT_PATTERN, 'text without control characters (no NUL, tab or line breaks)'],
  [ssh.FINGERPRINT_PATTERN, ssh.FINGERPRINT_RULE],
  [ssh.COMMAND_PATTERN, ssh.COMMAND_RULE],
  [ssh.KEY_REF_PATTERN, ssh.KEY_REF_RULE],
  [ssh.PROJECT_SLUG_PATTERN, ssh.PROJECT_SLUG_RULE],
]);

const where: ReadonlyMap<string, string> = new Map([
  ['body', 'field'],
  ['querystring', 'query parameter'],
  ['params', 'path segment'],
  ['headers', 'header'],
]);

function fieldOf(error: AjvError): string {
  const path = error.instancePath.split('/').filter(Boolean);
  if (error.keyword === 'required') path.push(String(error.params.missingProperty));
  if (error.keyword === 'additionalProperties') path.push(String(error.params.additionalProperty));
  return path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** "a string", "an integer", "an email": the article by the word's first letter. */
const article = (word: string): string => `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;

/** The allowed values when every branch of a failed anyOf is a const (a TypeBox union of literals). */
function literalChoices(errors: AjvError[], first: AjvError): unknown[] | undefined {
  const branches = errors.filter((e) => e.instancePath === first.instancePath && e.keyword !== 'anyOf');
  const anyOf = errors.find((e) => e.instancePath === first.instancePath && e.keyword === 'anyOf');
  if (!anyOf || branches.length === 0 || !branches.every((e) => e.keyword === 'const')) return undefined;
  return branches.map((e) => e.params.allowedValue);
}

/** One plain sentence for the first schema violation, naming the field. */
export function describeValidation(errors: AjvError[], context: string | undefined): { message: string; field: string } {
  const error = errors[0];
  const part = where.get(context ?? 'body') ?? 'field';
  if (!error) return { message: 'The request is not valid.', field: '' };
  const field = fieldOf(error);
  const name = field ? `The ${part} "${field}"` : context === 'body' ? 'The request body' : `The ${part}`;
  const p = error.params;
  switch (error.keyword) {
    case 'required':
      return { field, message: `${name} is required.` };
    case 'additionalProperties':
      return { field, message: `${name} is not allowed here; check its spelling against the API description at /docs.` };
    case 'maxLength':
      return { field, message: `${name} must be at most ${p.limit} characters long.` };
    case 'minLength':
      return { field, message: p.limit === 1 ? `${name} must not be empty.` : `${name} must be at least ${p.limit} characters long.` };
    case 'type':
      if (!field && context === 'body' && p.type === 'object') {
        return { field, message: 'The request body must be a JSON object, sent with Content-Type: application/json.' };
      }
      return { field, message: `${name} must be ${p.type === 'object' ? 'a JSON object' : p.type === 'array' ? 'a list' : String(p.type).split(',').map(article).join(' or ')}.` };
    case 'enum':
      return { field, message: `${name} must be one of: ${(p.allowedValues as unknown[]).join(', ')}.` };
    case 'const': {
      const choices = literalChoices(errors, error);
      if (choices && choices.length > 1) return { field, message: `${name} must be one of: ${choices.join(', ')}.` };
      return { field, message: `${name} must be ${String(p.allowedValue)}.` };
    }
    case 'canonicalId':
      return { field, message: `${name} must be an id written as plain digits, such as 145: no sign, leading zero, spaces, decimal point or exponent.` };
    case 'pattern':
      return { field, message: `${name} is not valid: use ${patternRules.get(String(p.pattern)) ?? `text matching ${String(p.pattern)}`}.` };
    case 'format':
      return { field, message: `${name} must be ${p.format === 'date-time' ? 'a date-time such as 2027-01-31T00:00:00Z' : article(String(p.format))}.` };
    case 'maximum':
    case 'minimum':
      return { field, message: `${name} must be ${error.keyword === 'maximum' ? 'at most' : 'at least'} ${p.limit}.` };
    case 'maxItems':
      return { field, message: `${name} may hold at most ${p.limit} items.` };
    case 'minItems':
      return { field, message: p.limit === 1 ? `${name} must hold at least one item.` : `${name} must hold at least ${p.limit} items.` };
    case 'uniqueItems':
      return { field, message: `${name} must not repeat an item.` };
    default:
      return { field, message: `${name} ${error.message ?? 'is not valid'}.` };
  }
}

/** Normalises Fastify's own errors (validation, body size, JSON syntax) and unknown errors. */
export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  const e = err as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (e.validation) {
    const { message, field } = describeValidation(e.validation, e.validationContext);
    return new AppError('validation_failed', message, undefined, { field });
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'The request body is larger than 64 KiB.', 'Send a smaller body: no key or field needs that much.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'The request body must be JSON.', 'Send it with Content-Type: application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('bad_request', 'The request says it carries JSON but the body is empty.', 'Send a JSON object, or no Content-Type header.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('bad_request', 'The request body is not valid JSON.', 'Check the quoting and commas of the body.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('bad_request', 'The Content-Length header does not match the body.');
  }
  if (isUnstorableText(e)) {
    return new AppError('bad_request', 'The request contains a NUL byte or another character that cannot be stored; remove it and try again.');
  }
  if (e instanceof SyntaxError && e.statusCode === 400) return new AppError('bad_request', 'The request body is not valid JSON.', 'Check the quoting and commas of the body.');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new AppError('bad_request', 'The request could not be read.');
  }
  return new AppError('internal', 'Something went wrong on our side; the error has been logged.', 'Try again; if it keeps happening, tell the operator of this Keysmith instance the request id.');
}

export function logIfInternal(request: FastifyRequest, original: unknown, error: AppError): void {
  if (error.code === 'internal') request.log.error({ err: original }, 'request failed');
}

/** Native /v1 shape: {"error": {code, message, remedy?, docs_url?}, "request_id"}. */
export function sendNativeError(request: FastifyRequest, reply: FastifyReply, original: unknown, docsBase: string) {
  // An answer no route's hook saw (not found, an unreadable request) gets the default headers here.
  reply.setDefaultHeaders();
  const error = toAppError(original);
  logIfInternal(request, original, error);
  const retryAfter = error.details.extra?.retry_after_seconds;
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  if (error.code === 'method_not_allowed' && typeof error.details.extra?.allow === 'string') reply.header('allow', error.details.extra.allow);
  if (error.code === 'credentials_required' || error.code === 'token_invalid' || error.code === 'token_expired' || error.code === 'token_rotated' || error.code === 'token_disabled') {
    reply.header('www-authenticate', 'Bearer realm="keysmith"');
  }
  return reply.status(error.status).send({
    error: {
      code: error.code,
      message: error.message,
      ...(error.remedy ? { remedy: error.remedy } : {}),
      ...(error.details.field ? { field: error.details.field } : {}),
      // Structured, so a page can show its own sentence and link instead of the API text.
      ...(error.code === 'grant_required' ? { grant: String(error.details.extra?.grant), grant_url: String(error.details.extra?.grant_url) } : {}),
      ...(error.code === 'policy_violation' ? { rule: String(error.details.extra?.rule), limit: error.details.extra?.limit ?? '' } : {}),
      docs_url: errorDocsUrl(docsBase, error.code),
    },
    request_id: request.id,
  });
}
