// CircleCI's error shape: {"message": "<one plain sentence>"}, plus `code` and, for a missing grant,
// `grant` and `grant_url` — so a script that only prints `message` still tells the person what to do.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { logIfInternal, toAppError } from '../../http/errors.ts';

export function sendCircleciError(request: FastifyRequest, reply: FastifyReply, original: unknown) {
  // An answer no route's hook saw (not found, an unreadable request) gets the default headers here.
  reply.setDefaultHeaders();
  const error = toAppError(original);
  logIfInternal(request, original, error);
  const retryAfter = error.details.extra?.retry_after_seconds;
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  const grant = error.code === 'grant_required' ? { grant: String(error.details.extra?.grant), grant_url: String(error.details.extra?.grant_url) } : {};
  // The grant sentence already names its remedy; elsewhere the remedy follows the message.
  const message = error.code === 'grant_required' || !error.remedy ? error.message : `${error.message} ${error.remedy}`;
  return reply.status(error.status).send({ message, code: error.code, ...(error.details.field ? { field: error.details.field } : {}), ...grant });
}
