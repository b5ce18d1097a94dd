// Named periodic jobs. A job `once` across nodes runs on one node at a time: on PostgreSQL each run
// first takes `pg_try_advisory_lock` (per schema and job name) on a connection of its own, held for
// the run and released after it (or by PostgreSQL when the process dies); a node that cannot take it
// skips that turn. A job `per node` (flushing this process's own buffers) runs everywhere. On SQLite
// there is one process, so every job simply runs.
//
//   const jobs = createJobs({ db, clock, logger });
//   jobs.register({ name: 'sessions.expire', everyMs: 3_600_000, scope: 'once', run: () => sessions.deleteExpired() });
//   jobs.start();              // timers (unref'd): each job every `everyMs`
//   await jobs.runNow('sessions.expire');   // tests, and a stop's final flush: 'ran' | 'skipped'
//   await jobs.stop();         // no new runs; waits for running ones (their locks are released)
import { PostgresAdapter, sql } from 'kysely';
import type { Db } from '../db/schema.ts';

export interface Job {
  /** Unique; also names the advisory lock. */
  name: string;
  everyMs: number;
  /** 'once': one node at a time across the database; 'node': every node (its own in-memory state). */
  scope: 'once' | 'node';
  run: () => Promise<void>;
}

export type RunOutcome = 'ran' | 'skipped';

export interface JobsDeps {
  db: Db;
  clock: { now(): Date };
  logger: { error(obj: object, msg: string): void };
  /** Told how each run ended (metrics): ran, skipped (another node held the lock) or failed. */
  onRun?: (job: string, outcome: RunOutcome | 'failed') => void;
}

export function createJobs({ db, clock, logger, onRun = () => {} }: JobsDeps) {
  const jobs = new Map<string, Job>();
  const running = new Map<string, Promise<RunOutcome>>();
  const timers: NodeJS.Timeout[] = [];
  const lastRunAt = new Map<string, number>();
  const onPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  let stopped = false;

  const underLock = (job: Job): Promise<RunOutcome> =>
    db.connection().execute(async (conn) => {
      const lock = sql`hashtext(${'keysmith_job:'}::text || current_schema() || ':' || ${job.name}::text)`;
      const { rows } = await sql<{ got: boolean }>`select pg_try_advisory_lock(${lock}) as got`.execute(conn);
      if (!rows[0]?.got) return 'skipped';
      try {
        await job.run();
        return 'ran';
      } finally {
        await sql`select pg_advisory_unlock(${lock})`.execute(conn);
      }
    });

  /** Runs a job now, unless it is already running here (then waits for that run). */
  const runNow = (name: string): Promise<RunOutcome> => {
    const job = jobs.get(name);
    if (!job) throw new Error(`no job named ${name}`);
    const inFlight = running.get(name);
    if (inFlight) return inFlight;
    const run = (async () => {
      try {
        const outcome = job.scope === 'once' && onPostgres ? await underLock(job) : (await job.run(), 'ran' as const);
        if (outcome === 'ran') lastRunAt.set(name, clock.now().getTime());
        onRun(name, outcome);
        return outcome;
      } catch (err) {
        onRun(name, 'failed');
        throw err;
      } finally {
        running.delete(name);
      }
    })();
    running.set(name, run);
    return run;
  };

  return {
    register(job: Job): void {
      if (jobs.has(job.name)) throw new Error(`a job named ${job.name} is already registered`);
      jobs.set(job.name, job);
    },
    runNow,
    /** When the job last ran on this node (epoch ms), for metrics and tests. */
    lastRunAt: (name: string): number | undefined => lastRunAt.get(name),
    names: (): string[] => [...jobs.keys()],
    start(): void {
      for (const job of jobs.values()) {
        const timer = setInterval(() => {
          if (stopped) return;
          runNow(job.name).catch((err: unknown) => logger.error({ err, job: job.name }, 'a background job failed; it runs again at its next turn'));
        }, job.everyMs);
        timer.unref();
        timers.push(timer);
      }
    },
    /** Stops the timers and waits for the runs under way (each releases its lock as it ends). */
    async stop(): Promise<void> {
      stopped = true;
      for (const timer of timers.splice(0)) clearInterval(timer);
      await Promise.allSettled([...running.values()]);
    },
  };
}

export type Jobs = ReturnType<typeof createJobs>;
