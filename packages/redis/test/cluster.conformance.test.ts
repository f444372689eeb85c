import { describe, expect, it } from 'vitest';
import { runStoreConformance } from '@idemkit/core/testing';
import { clusterClient, conformanceStore } from './support/clients.js';

// Against the three-node Cluster started by global-setup.ts; every store gets its own Cluster client.
runStoreConformance({ describe, it, expect }, {
  name: 'RedisStore (three-node Cluster)',
  factory: ({ clock }) => conformanceStore(clusterClient(), clock.now),
});
