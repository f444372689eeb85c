// The handler as SAM's and CDK's esbuild builds ship it: bundled as ESM and as CommonJS, loaded in
// a plain Node process from a directory with no node_modules (as in /var/task), against the real
// PostgreSQL. The handler writes to the `public` schema, so this test runs in a database of its
// own, created for the run and dropped after.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleDir, bundleHandler, invokeBundle, storesIn } from '../../test/support/bundle.js';
import { migrate } from '../src/migrate.js';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DATABASE = `idemkit_example_bundle_${randomBytes(5).toString('hex')}`;
const databaseUrl = Object.assign(new URL(SERVER_URL), { pathname: `/${DATABASE}` }).toString();
const server = new pg.Pool({ connectionString: SERVER_URL, max: 1 });
const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
const out = bundleDir();

beforeAll(async () => {
  await server.query(`CREATE DATABASE "${DATABASE}"`);
  await migrate(pool); // idemkit's table and `interactions`, in public, as a deployment would
});

afterAll(async () => {
  out.remove();
  await pool.end();
  // pool.end() resolves once its clients were asked to close, not once the server saw them go: a
  // forced DROP meanwhile terminates a closing connection, whose FATAL reply nobody is listening for.
  for (let check = 0; check < 1_000; check++) {
    const { rows } = await server.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [DATABASE]);
    if (rows[0].n === 0) break;
  }
  try {
    await server.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  } finally {
    await server.end();
  }
});

describe.each(['esm', 'cjs'] as const)('postgres-transaction handler bundled as %s', (format) => {
  it('holds the Postgres store and no other, and records a duplicate delivery once', async () => {
    const bundle = await bundleHandler('examples/postgres-transaction/src/handler.ts', { format, outdir: out.dir });
    expect(storesIn(bundle.inputs)).toEqual(['postgres']);

    const conversationId = `conv-${randomUUID()}`;
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'CXone Contact Event',
      source: 'nice.cxone.bridge',
      detail: { eventType: 'ContactStarted', conversationId, IdempotencyKey: randomUUID(), timestamp: '2026-11-02T09:00:00.000Z' },
    };
    const { deliveries, loadError } = await invokeBundle(bundle, [event, event], { DATABASE_URL: databaseUrl, IDEMKIT_LOG_LEVEL: 'warn' });

    expect(loadError).toBeUndefined();
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM interactions WHERE conversation_id = $1', [conversationId]);
    expect(rows).toHaveLength(1);
    expect(deliveries).toEqual([{ result: { interactionId: rows[0]!.id } }, { result: { interactionId: rows[0]!.id } }]);
  });
});
