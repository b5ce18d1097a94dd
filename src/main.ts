// load config → open database → migrate → build app → listen; graceful shutdown on SIGINT/SIGTERM
// (and when npm, which started it, signalled only its shell).
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { connectDatabase } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { loadKeyRing } from './crypto/master-key.ts';
import { createLogger } from './logger.ts';
import { createServices } from './services.ts';
import { createLifecycle } from './lifecycle.ts';
import { startInvalidationListener, type InvalidationListener } from './db/invalidation-listener.ts';
import { INVALIDATION_CHANNEL, decodeEviction } from './modules/api-keys/credential-invalidation.ts';
import { requireConfiguredMasterKeys } from './modules/master-key/configured-keys.ts';

// "Every address" for listening; as a URL's host it reaches nothing. (URL spells 0 as 0.0.0.0.)
/** A little under the 10 s a stop may take, so the exit itself fits. */
const STOP_DEADLINE_MS = 9_500;

const UNSPECIFIED_HOSTS: ReadonlySet<string> = new Set(['0.0.0.0', '[::]']);

export async function serve(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, undefined, config.logFormat);
  const master = loadKeyRing(config);
  const publicHost = new URL(config.publicUrl).hostname;
  if (UNSPECIFIED_HOSTS.has(publicHost)) {
    logger.warn(
      { publicUrl: config.publicUrl },
      `the public URL is ${config.publicUrl}, so Location headers, grant_url and links would name ${publicHost}, which no client can reach: set KEYSMITH_PUBLIC_URL to the address people use (for example https://keys.example.com)`,
    );
  }
  if (master.createdFile) {
    logger.warn({ file: master.createdFile }, 'created a new master key file for the embedded default; back it up, or set KEYSMITH_MASTER_KEY or KEYSMITH_MASTER_KEY_FILE for production');
  }
  const handle = connectDatabase(config.databaseUrl);
  const applied = await migrateToLatest(handle.db);
  if (applied.length > 0) logger.info({ migrations: applied }, 'applied database migrations');
  const services = createServices({ db: handle.db, ring: master.ring, config, logger });
  try {
    await requireConfiguredMasterKeys(services.sealedValues, master.ring);
  } catch (err) {
    await handle.close();
    throw err;
  }
  // Other nodes on the same PostgreSQL announce what to forget; SQLite serves this process alone.
  let listener: InvalidationListener | undefined;
  if (handle.kind === 'postgres') {
    listener = startInvalidationListener({
      url: config.databaseUrl,
      channel: INVALIDATION_CHANNEL,
      onMessage: (payload) => services.invalidation.apply(decodeEviction(payload)),
      onReconnect: () => services.invalidation.apply({ all: true }),
      logger,
    });
    await listener.ready;
  }
  const lifecycle = createLifecycle();
  const app = await buildApp({ config, services, logger, lifecycle });

  if ((await services.users.countUsers()) === 0) {
    logger.warn("no users yet: create the first one, with a console password:  printf '%s' '<password>' | npx keysmith init --login <login> --account <account> --password-stdin");
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    // Readiness answers 503 from here on; close() stops accepting, lets in-flight requests finish,
    // stops the jobs (releasing their locks) and flushes the buffered writes. A stop never takes
    // longer than 10 s: past that, whatever is left is abandoned.
    lifecycle.beginStopping();
    setTimeout(() => {
      logger.error({}, 'shutdown took longer than 10 s; exiting without finishing');
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    // close() drops each connection once it has no request in flight (app.ts).
    await app.close();
    await listener?.close();
    await handle.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  if (config.stopWithParent) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) void shutdown('the process that started it exited');
    }, 500).unref();
  }

  await app.listen({ host: config.host, port: config.port });
}
