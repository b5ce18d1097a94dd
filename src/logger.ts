// pino with the request serialiser narrowed: the URL loses any circle-token query parameter (and the
// whole query of /set-password and /v1/set-password*, which carries a one-time token), and no
// header (Authorization, Circle-Token, Cookie) is ever logged. `pretty` formats the same, already
// serialised lines for a person at a terminal (in this process, not in a worker thread).
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat } from './config.ts';

// Any parameter whose name decodes to circle-token (circle%2Dtoken too), since that is what Fastify reads.
const QUERY_PARAM = /([?&])([^=&#]*)=([^&#]*)/g;

// The set-password page and API carry a one-time token in the query: the whole query goes.
const SET_PASSWORD_PATH = /^\/(?:v1\/)?set-password(?:\/[^?#]*)?(?=[?#])/;

export function redactUrl(url: string): string {
  const setPassword = SET_PASSWORD_PATH.exec(url);
  if (setPassword) return `${setPassword[0]}?[redacted]`;
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

export function createLogger(level: string, destination?: pino.DestinationStream, format: LogFormat = 'json'): Logger {
  // sync: the lines written just before process.exit (shutdown, a refused start) are not lost.
  if (format === 'pretty') destination = pretty({ sync: true, ...(destination ? { destination } : {}) });
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

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Fastify gives every request its own child logger (bound to the request id). Building a pino child
 * costs more than the rest of an authenticated request, and at the usual level most requests never
 * log. This one builds the child only when a line is actually written.
 */
class LazyChildLogger {
  #child: Logger | undefined;
  readonly #parent: Logger;
  readonly #bindings: pino.Bindings;
  readonly #options: pino.ChildLoggerOptions;

  constructor(parent: Logger, bindings: pino.Bindings, options: pino.ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #real(): Logger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options));
  }

  #write(level: Level, args: unknown[]): void {
    if (this.#parent.isLevelEnabled(level)) (this.#real()[level] as (...a: unknown[]) => void)(...args);
  }

  get level(): string {
    return this.#child?.level ?? this.#parent.level;
  }
  set level(value: string) {
    this.#real().level = value;
  }
  fatal(...args: unknown[]) {
    this.#write('fatal', args);
  }
  error(...args: unknown[]) {
    this.#write('error', args);
  }
  warn(...args: unknown[]) {
    this.#write('warn', args);
  }
  info(...args: unknown[]) {
    this.#write('info', args);
  }
  debug(...args: unknown[]) {
    this.#write('debug', args);
  }
  trace(...args: unknown[]) {
    this.#write('trace', args);
  }
  silent() {}
  child(bindings: pino.Bindings, options?: pino.ChildLoggerOptions) {
    return this.#real().child(bindings, options);
  }
}

/** For Fastify's `childLoggerFactory`. */
export function lazyChildLogger(parent: Logger, bindings: pino.Bindings, options: pino.ChildLoggerOptions) {
  return new LazyChildLogger(parent, bindings, options);
}
