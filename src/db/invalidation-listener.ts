// LISTENs for other nodes' announcements on a dedicated connection: LISTEN belongs to a session, so
// it cannot live in the pool (nor behind PgBouncer in transaction mode, which drops it silently).
// When the connection breaks, announcements made meanwhile are lost, so after reconnecting the
// whole cache is cleared; reconnection backs off from 100 ms up to 5 s.
import pg from 'pg';

export interface InvalidationListenerDeps {
  url: string;
  channel: string;
  /** An announcement's payload. */
  onMessage: (payload: string) => void;
  /** Called once LISTEN is in place again after a broken connection: forget everything. */
  onReconnect: () => void;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  searchPath?: string;
}

export interface InvalidationListener {
  /** Resolves once the first LISTEN is in place. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function startInvalidationListener({ url, channel, onMessage, onReconnect, logger, searchPath }: InvalidationListenerDeps): InvalidationListener {
  let client: pg.Client | undefined;
  let closed = false;
  let delayMs = 100;
  let timer: NodeJS.Timeout | undefined;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let everConnected = false;

  const scheduleReconnect = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delayMs);
    delayMs = Math.min(5_000, delayMs * 2);
  };

  const connect = async () => {
    const c = new pg.Client({ connectionString: url, ...(searchPath ? { options: `-c search_path=${searchPath}` } : {}) });
    client = c;
    let failed = false;
    const lost = (err?: unknown) => {
      if (failed) return;
      failed = true;
      if (client === c) client = undefined;
      c.removeAllListeners('notification');
      void c.end().catch(() => {});
      if (!closed) {
        logger.warn({ err }, 'lost the connection that listens for credential invalidations; reconnecting');
        scheduleReconnect();
      }
    };
    c.on('error', lost);
    c.on('end', () => lost());
    c.on('notification', (msg) => {
      if (msg.channel === channel) onMessage(msg.payload ?? '');
    });
    try {
      await c.connect();
      // The channel is a fixed identifier of ours, never user input.
      await c.query(`LISTEN ${channel}`);
    } catch (err) {
      lost(err);
      return;
    }
    if (closed) {
      await c.end().catch(() => {});
      return;
    }
    delayMs = 100;
    if (everConnected) {
      onReconnect();
      logger.info({}, 'listening for credential invalidations again; the credential cache was cleared');
    }
    everConnected = true;
    markReady();
  };

  void connect();
  return {
    ready,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      if (c) await c.end().catch(() => {});
    },
  };
}
