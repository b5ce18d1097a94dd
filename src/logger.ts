// pino with the request serialiser narrowed: the URL loses any circle-token query parameter, and no
// header (Authorization, Circle-Token, Cookie) is ever logged.
import pino, { type Logger } from 'pino';

// Any parameter whose name decodes to circle-token (circle%2Dtoken too), since that is what Fastify reads.
const QUERY_PARAM = /([?&])([^=&#]*)=([^&#]*)/g;

export function redactUrl(url: string): string {
  return url.replace(QUERY_PARAM, (whole, sep: string, name: string) => {
    let decoded = name;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      // keep it as it is
    }
    return decoded.toLowerCase() === 'circle-token' ? `${sep}${name}=[redacted]` : whole;
  });
}

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
