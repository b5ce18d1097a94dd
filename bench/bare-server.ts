// The baseline for GET /v1/user: plain Fastify answering with a fixed payload — no auth hook, no
// database, no logger. It uses Keysmith's own `Caller` response schema so that both servers pay the
// same serialisation cost, and the payload is the exact JSON Keysmith returned (BENCH_PAYLOAD), so
// both send the same bytes.
// Run: BENCH_PAYLOAD='{"type":"user",…}' PORT=… [BENCH_BARE_STAGE=0…5] node --import tsx bench/bare-server.ts
import Fastify from 'fastify';
import { Caller } from '../src/modules/users/users.schemas.ts';

const payloadText = process.env.BENCH_PAYLOAD;
const port = Number(process.env.PORT);
if (!payloadText || !Number.isInteger(port) || port <= 0) {
  process.stderr.write('bare-server: set BENCH_PAYLOAD (the JSON to answer with) and PORT.\n');
  process.exit(2);
}
const payload: unknown = JSON.parse(payloadText);
// BENCH_BARE_STAGE (baseline-stages benchmark only): first do that much of Keysmith's start-up.
const stage = Number(process.env.BENCH_BARE_STAGE ?? 0);
if (stage > 0) await (await import('./startup-stages.ts')).runStartupStages(stage);

const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
// async like Keysmith's handler, so both go through the same promise-resolution path in Fastify.
app.get('/v1/user', { schema: { response: { 200: Caller } } }, async () => payload);

const shutdown = () => {
  void app.close().finally(() => process.exit(0));
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port });
