// GitHub's error shape: {"message", "errors"?: [{resource, field, code, message}], "documentation_url"}.
// The same AppError as everywhere, rendered the way Octokit and GitHub's users expect.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { logIfInternal, toAppError } from '../../http/errors.ts';

const KEY_CODES = new Set(['key_malformed', 'key_type_refused', 'key_too_weak', 'key_is_private', 'key_in_use_by_you', 'key_in_use_elsewhere']);

export function sendGithubError(request: FastifyRequest, reply: FastifyReply, original: unknown, publicUrl: string) {
  // An answer no route's hook saw (not found, an unreadable request) gets the default headers here.
  reply.setDefaultHeaders();
  const error = toAppError(original);
  logIfInternal(request, original, error);
  const documentation_url = `${publicUrl}/docs`;
  const retryAfter = error.details.extra?.retry_after_seconds;
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  if (error.code === 'method_not_allowed' && typeof error.details.extra?.allow === 'string') reply.header('allow', error.details.extra.allow);
  if (KEY_CODES.has(error.code)) {
    return reply.status(error.status).send({
      message: 'Validation Failed',
      errors: [{ resource: 'PublicKey', field: error.details.field ?? 'key', code: error.code, message: error.remedy ? `${error.message} ${error.remedy}` : error.message }],
      documentation_url,
    });
  }
  // A body of the wrong shape (`title: 123`, `read_only: "yes"`) is refused as GitHub refuses it: 422.
  if (error.code === 'validation_failed' && (original as { validationContext?: string }).validationContext === 'body') {
    return reply.status(422).send({
      message: 'Validation Failed',
      errors: [{ resource: 'PublicKey', field: error.details.field || 'body', code: 'invalid', message: error.message }],
      documentation_url,
    });
  }
  const message = error.remedy ? `${error.message} ${error.remedy}` : error.message;
  if (error.details.field) {
    return reply.status(error.status).send({
      message,
      errors: [{ resource: 'PublicKey', field: error.details.field, code: error.code === 'validation_failed' ? 'invalid' : error.code, message: error.message }],
      documentation_url,
    });
  }
  return reply.status(error.status).send({ message, documentation_url });
}
