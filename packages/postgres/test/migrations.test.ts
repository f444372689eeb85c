import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/index.js';
import type { MigrateJob, MigrateReport } from './fixtures/migrate-worker.js';
import { schema, testPool, uniqueTable, url, warm } from './helpers.js';
import { schemaV1, seedV1 } from './schema-v1.js';

// A cold-start burst: several real processes start together, each runs migrate() and then claims,
// while this process keeps claiming on the same table. No migration may deadlock, time out or
// fail, and no claim may fail: on a fresh schema, on a current one, on a current one whose mark
// is gone (every process then runs the whole DDL beside the running claims), and on a table made
// by the previous release.

const WORKERS = 6;
const CLAIMERS = 4;
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const pool = testPool({ max: CLAIMERS + 3 });

interface Worker {
  child: ChildProcess;
  run(job: MigrateJob): Promise<MigrateReport>;
}

function startWorker(): Promise<Worker> {
  const child = fork(fileURLToPath(new URL('./fixtures/migrate-worker.ts', import.meta.url)), [], {
    cwd: REPO_ROOT,
    execArgv: ['--import', TSX],
    env: { ...process.env, TSX_TSCONFIG_PATH: `${REPO_ROOT}tsconfig.json` },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>() =>
    new Promise<T>((resolve, reject) => {
      child.once('message', (message) => resolve(message as T));
      child.once('exit', (code) => reject(new Error(`migrate worker exited (code ${code})`)));
    });
  return next<string>().then(() => ({
    child,
    run(job) {
      const report = next<MigrateReport>();
      child.send(job);
      return report;
    },
  }));
}

let workers: Worker[] = [];
beforeAll(async () => {
  await warm(pool, CLAIMERS + 2);
  workers = await Promise.all(Array.from({ length: WORKERS }, startWorker));
});
afterAll(async () => {
  for (const worker of workers) worker.child.kill();
  await pool.end();
});

/** Waits (asking the server, not sleeping) until `count` sessions wait for the shared barrier lock. */
async function waitersOn(barrier: number, count: number): Promise<void> {
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks
       WHERE locktype = 'advisory' AND objsubid = 1 AND classid = 0 AND objid::text::bigint = $1 AND NOT granted`,
      [barrier],
    );
    if (rows[0]!.n >= count) return;
  }
}

/** Claims and completes fresh keys on `CLAIMERS` connections until `stop` resolves; returns how many ran and what failed. */
function claimsUntil(store: PostgresStore, stop: Promise<unknown>) {
  let stopped = false;
  void stop.finally(() => (stopped = true));
  const errors: string[] = [];
  let claims = 0;
  const loop = async () => {
    do {
      const key = `running:${randomBytes(8).toString('hex')}`;
      try {
        const outcome = await store.claim({ key, leaseMs: 60_000, retentionMs: 60_000 });
        if (!outcome.acquired) throw new Error('a fresh key was refused');
        await store.complete({ key, fencingToken: outcome.fencingToken, result: '1', retentionMs: 60_000 });
        claims++;
      } catch (error) {
        errors.push(`${(error as { cause?: { code?: string } }).cause?.code ?? ''} ${(error as Error).message}`);
      }
    } while (!stopped);
  };
  return Promise.all(Array.from({ length: CLAIMERS }, loop)).then(() => ({ claims, errors }));
}

/** Starts every worker on `target` at once (this process claiming alongside when `alongside` is given); returns their reports. */
async function coldStartBurst(target: { schema: string; table: string }, alongside?: PostgresStore) {
  const barrier = randomInt(1, 2 ** 31 - 1);
  const keys = Array.from({ length: 10 }, (_, i) => `shared:${barrier}:${i}`);
  const holder = await pool.connect();
  try {
    await holder.query('SELECT pg_advisory_lock($1::int8)', [barrier]);
    const reports = Promise.all(workers.map((worker) => worker.run({ url, ...target, barrier, keys })));
    await waitersOn(barrier, WORKERS);
    const running = alongside === undefined ? undefined : claimsUntil(alongside, reports);
    await holder.query('SELECT pg_advisory_unlock($1::int8)', [barrier]);
    const done = await reports;
    const claims = await running;
    // Every worker claimed the same keys: each key was acquired once across all the processes.
    expect(done.flatMap((report) => report.acquired).sort()).toEqual([...keys].sort());
    return { reports: done, claims };
  } finally {
    holder.release();
  }
}

function expectClean(reports: MigrateReport[]): void {
  expect(reports.map((report) => report.migrateError)).toEqual(reports.map(() => undefined));
  expect(reports.flatMap((report) => report.retries)).toEqual([]);
  expect(reports.flatMap((report) => report.claimErrors)).toEqual([]);
}

const markOf = async (target: { schema: string; table: string }) =>
  (
    await pool.query<{ mark: string | null }>(
      `SELECT obj_description(to_regproc($1), 'pg_proc') AS mark`,
      [`"${target.schema}"."${target.table}_claim"`],
    )
  ).rows[0]?.mark;

describe(`${WORKERS} processes starting together with migrate()`, () => {
  it('on a fresh schema: one creates it, the others wait for it, then all claim', async () => {
    const target = { schema: `${schema}_fresh_${randomBytes(3).toString('hex')}`, table: 'idemkit_records' };
    try {
      const { reports } = await coldStartBurst(target);
      expectClean(reports);
      expect(await markOf(target)).toBe('idemkit schema 2');
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS "${target.schema}" CASCADE`);
    }
  });

  it('on a current schema, while claims run on it: nothing waits, nothing fails', async () => {
    const target = { schema, table: uniqueTable('current') };
    const store = new PostgresStore({ client: pool, ...target });
    await store.migrate();
    const { reports, claims } = await coldStartBurst(target, store);
    expectClean(reports);
    expect(claims!.errors).toEqual([]);
    expect(claims!.claims).toBeGreaterThan(0);
  });

  it('on a current schema without its mark, while claims run: every process runs the whole DDL, nothing fails', async () => {
    const target = { schema, table: uniqueTable('unmarked') };
    const store = new PostgresStore({ client: pool, ...target });
    await store.migrate();
    await pool.query(`COMMENT ON FUNCTION "${target.schema}"."${target.table}_claim" IS NULL`);
    expect(await markOf(target)).toBeNull();
    const { reports, claims } = await coldStartBurst(target, store);
    expectClean(reports);
    expect(claims!.errors).toEqual([]);
    expect(claims!.claims).toBeGreaterThan(0);
    expect(await markOf(target)).toBe('idemkit schema 2');
  });

  it('on a table made by the previous release: one upgrades it, keeping its records; then all claim', async () => {
    const table = uniqueTable('v1_burst');
    await pool.query(await schemaV1(table));
    const now = Date.now();
    const seeded = await seedV1(pool, table, now);
    const { reports } = await coldStartBurst({ schema, table });
    expectClean(reports);
    const store = new PostgresStore({ client: pool, schema, table });
    expect(await store.get('done')).toMatchObject({ status: 'completed', result: '"first run"', fencingToken: seeded.done });
  });
});
