// Keysmith's start-up, cut into stages, for the bare server to run before it serves its route
// (bench/bare-server.ts with BENCH_BARE_STAGE): does the same bare route cost more CPU per request in
// a process that has done some of what a Keysmith node does at start? See baseline-stages.bench.ts.
//   1  import every module `keysmith serve` loads
//   2  + open an in-memory SQLite database and migrate it
//   3  + create the services
//   4  + build the Fastify app and make it ready (never listening)
//   5  + send one request through it (app.inject, as the tests do)
export const STAGES = [
  'nothing else (the plain bare server)',
  "imported Keysmith's modules",
  '+ opened and migrated SQLite',
  '+ created the services',
  '+ built the app (ready, not listening)',
  '+ one request through it by inject',
] as const;

export async function runStartupStages(stage: number): Promise<void> {
  if (stage < 1) return;
  const { loadConfig } = await import('../src/config.ts');
  const { connectDatabase } = await import('../src/db/connect.ts');
  const { migrateToLatest } = await import('../src/db/migrate.ts');
  const { loadKeyRing } = await import('../src/crypto/master-key.ts');
  const { createLogger } = await import('../src/logger.ts');
  const { createServices } = await import('../src/services.ts');
  const { buildApp } = await import('../src/app.ts');
  if (stage < 2) return;
  const config = loadConfig({ ...process.env, KEYSMITH_DATABASE_URL: 'sqlite::memory:', KEYSMITH_LOG_LEVEL: 'warn' });
  const handle = connectDatabase(config.databaseUrl);
  await migrateToLatest(handle.db);
  if (stage < 3) return;
  const logger = createLogger('warn');
  const services = createServices({ db: handle.db, ring: loadKeyRing(config).ring, config, logger });
  if (stage < 4) return;
  const app = await buildApp({ config, services, logger });
  await app.ready();
  if (stage < 5) return;
  await app.inject({ method: 'GET', url: '/healthz' });
}
