import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/index.js';
import { schema, testPool, uniqueTable } from './helpers.js';

// The storage cost per occurrence that docs/store-postgres.md states, measured with
// pg_total_relation_size (table + TOAST + indexes) over many completed occurrences of the shape
// the engine writes. STORAGE_ROWS=100000 reproduces the documented figures.

const ROWS = Number(process.env.STORAGE_ROWS ?? 20_000);
const pool = testPool({ max: 2 });
afterAll(() => pool.end());

describe('PostgresStore storage per occurrence', () => {
  it(`${ROWS} completed occurrences take at most 360 bytes each once compacted, and at most 720 as written`, async () => {
    const table = uniqueTable('storage');
    const store = new PostgresStore({ client: pool, schema, table });
    await store.migrate();
    for (let done = 0; done < ROWS; done += 500) {
      const keys = Array.from({ length: Math.min(500, ROWS - done) }, () => `idemkit:eventId:${randomUUID()}`);
      const claims = await store.claimMany(
        keys.map((key) => ({ key, leaseMs: 60_000, retentionMs: 86_400_000, fingerprint: 'f'.repeat(43), owner: randomUUID() })),
      );
      await store.completeMany(
        claims.map((claim, i) => ({ key: keys[i]!, fencingToken: claim.record.fencingToken, result: '{"ok":true}', retentionMs: 86_400_000 })),
      );
    }
    const perRow = async () => {
      const { rows } = await pool.query<{ total: string; heap: string; indexes: string; n: string }>(
        `SELECT pg_total_relation_size($1::regclass) AS total, pg_relation_size($1::regclass) AS heap,
                pg_indexes_size($1::regclass) AS indexes, (SELECT count(*) FROM ${store.qualifiedTable}) AS n`,
        [store.qualifiedTable],
      );
      const { total, heap, indexes, n } = rows[0]!;
      return { total: Number(total) / Number(n), heap: Number(heap) / Number(n), indexes: Number(indexes) / Number(n), rows: Number(n) };
    };
    // As written: each completion is a HOT update whose in-progress version waits for pruning, and
    // random keys leave the primary key's pages about half full.
    const written = await perRow();
    await pool.query(`VACUUM FULL ${store.qualifiedTable}`);
    const compacted = await perRow();
    console.info(`[postgres storage] ${ROWS} occurrences: as written ${JSON.stringify(written)}, compacted ${JSON.stringify(compacted)}`);
    expect(written.rows).toBe(ROWS);
    expect(compacted.total).toBeLessThanOrEqual(360);
    expect(written.total).toBeLessThanOrEqual(720);
    await pool.query(`DROP TABLE ${store.qualifiedTable}`);
  });
});
