// GET /readyz: whether a load balancer should send this node work. 200 when the database answers and
// no migration is pending; 503 with a sentence while the process is stopping (so traffic drains
// while in-flight requests finish), while a migration is pending, or while the database does not
// answer. /healthz (liveness) stays 200 through a stop.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ping } from '../db/connect.ts';
import { pendingMigrations } from '../db/migrate.ts';
import type { Db } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { Lifecycle } from '../lifecycle.ts';
import { errorResponses } from './schemas.ts';

/** A database that drops packets would leave the probe hanging; past this it counts as not answering. */
const PING_TIMEOUT_MS = 2_000;

function answersWithin(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('the database did not answer in time')), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export function createReadiness({ db, lifecycle }: { db: Db; lifecycle: Lifecycle }) {
  // Migrations only ever go forward while a node runs, so once none is pending that stays true.
  let migrated = false;
  return async function check(): Promise<void> {
    if (lifecycle.stopping) throw new AppError('not_ready', 'This node is shutting down: it finishes the requests under way and takes no new work.', 'Send requests to another node.');
    try {
      await answersWithin(ping(db), PING_TIMEOUT_MS);
    } catch {
      throw new AppError(
        'not_ready',
        'The database does not answer this node (or took more than 2 seconds to).',
        'Check that the database named by KEYSMITH_DATABASE_URL is up and reachable from this node.',
      );
    }
    if (migrated) return;
    let pending: string[];
    try {
      pending = await pendingMigrations(db);
    } catch {
      throw new AppError('not_ready', 'The database answers, but this node could not read which migrations it has applied.', 'Check the database, then run: keysmith migrate.');
    }
    if (pending.length > 0) {
      const names = pending.slice(0, 3).join(', ') + (pending.length > 3 ? ` and ${pending.length - 3} more` : '');
      throw new AppError(
        'not_ready',
        `${pending.length} database migration${pending.length === 1 ? ' is' : 's are'} still pending (${names}).`,
        'Run keysmith migrate, or wait for the node that is migrating to finish.',
      );
    }
    migrated = true;
  };
}

export const readinessRoutes: FastifyPluginAsyncTypebox<{ ready: () => Promise<void> }> = async (app, { ready }) => {
  app.get(
    '/readyz',
    {
      config: { auth: 'none' },
      schema: {
        tags: ['health'],
        summary: 'Readiness: 200 when the database answers and no migration is pending; 503 otherwise and while the node shuts down',
        response: { 200: Type.Object({ status: Type.Literal('ready') }), ...errorResponses },
      },
    },
    async (_request, reply) => {
      await ready();
      return reply.header('cache-control', 'no-store').send({ status: 'ready' as const });
    },
  );
};
