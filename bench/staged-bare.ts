// Experiment (not kept): the bare route, served by a process that first did STAGE of Keysmith's start-up.
import Fastify from 'fastify';
import { Caller } from '../src/modules/users/users.schemas.ts';

const stage = Number(process.env.STAGE ?? 0);
const payload: unknown = JSON.parse(process.env.BENCH_PAYLOAD!);
const port = Number(process.env.PORT);

if (stage >= 1) {
  const { loadConfig } = await import('../src/config.ts');
  const { connectDatabase } = await import('../src/db/connect.ts');
  const { migrateToLatest } = await import('../src/db/migrate.ts');
  const { loadKeyRing } = await import('../src/crypto/master-key.ts');
  const { createLogger } = await import('../src/logger.ts');
  const { createServices } = await import('../src/services.ts');
  const { buildApp } = await import('../src/app.ts');
  if (stage >= 2) {
    const config = loadConfig({ ...process.env, KEYSMITH_DATABASE_URL: process.env.STAGE_DB ?? 'sqlite::memory:' });
    const logger = createLogger('warn');
    const master = loadKeyRing(config);
    const handle = connectDatabase(config.databaseUrl);
    await migrateToLatest(handle.db);
    if (stage >= 3) {
      const services = createServices({ db: handle.db, ring: master.ring, config, logger });
      if (stage >= 4) {
        const app = await buildApp({ config, services, logger });
        await app.ready();
        if (stage >= 5) {
          // serve a request through the Keysmith app (inject)
          await app.inject({ method: 'GET', url: '/healthz' });
        }
      }
    }
  }
}

const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
app.get('/v1/user', { schema: { response: { 200: Caller } } }, async () => payload);
process.once('SIGTERM', () => void app.close().finally(() => process.exit(0)));
await app.listen({ host: '127.0.0.1', port });
