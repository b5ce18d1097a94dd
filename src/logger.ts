// pino with the request serialiser narrowed: the URL loses any circle-token query parameter, and no
// header (Authorization, Circle-Token, Cookie) is ever logged.
import pino, { type Logger } from 'pino';

const SECRET_QUERY = /([?&])(circle-token)=[^&#]*/gi;

export const redactUrl = (url: string): string => url.replace(SECRET_QUERY, '$1$2=[redacted]');

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      serializers: {
        req: (req: { method: string; url: string; ip?: string; id?: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
    destination,
  );
}
