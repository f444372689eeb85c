import { describe, expect, it } from 'vitest';
import { runStoreConformance } from '@idemkit/core/testing';
import { standaloneClient, conformanceStore } from './support/clients.js';

// Against the machine's Redis (REDIS_URL); every store gets its own connection, so the
// 50-claimer race runs over 50 sockets.
runStoreConformance({ describe, it, expect }, {
  name: 'RedisStore (standalone)',
  factory: ({ clock }) => conformanceStore(standaloneClient(), clock.now),
});
