// Run by memory.ts in a fresh process with --expose-gc: completes N keys in a MemoryStore and
// prints the heap it took. A fresh process per N keeps one measurement's garbage out of the next.
import { randomUUID } from 'node:crypto';
import { MemoryStore } from '@idemkit/core';

const keys = Number(process.argv[2]);
const gc = (globalThis as { gc?: () => void }).gc;
if (!Number.isInteger(keys) || keys <= 0 || gc === undefined) {
  throw new Error('usage: node --expose-gc --import tsx memory-child.ts <keys>');
}
const settle = () => {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
};

const retentionMs = 3_600_000;
const store = new MemoryStore({ maxEntries: keys + 1 });
const before = settle();
const start = Date.now();
for (let i = 0; i < keys; i++) {
  // The shape the engine writes: namespaced event-id key, the handler's small JSON result.
  const key = `idemkit:eventId:${randomUUID()}`;
  const claim = await store.claim({ key, leaseMs: 60_000, retentionMs });
  if (!claim.acquired) throw new Error(`fresh key ${key} was not acquired`);
  await store.complete({ key, fencingToken: claim.fencingToken, result: '{"ok":true}', retentionMs });
}
const elapsedMs = Date.now() - start;
const after = settle();
if (store.size !== keys) throw new Error(`store holds ${store.size} records, expected ${keys}`);
process.stdout.write(`${JSON.stringify({ keys, heapBytes: after - before, elapsedMs })}\n`);
