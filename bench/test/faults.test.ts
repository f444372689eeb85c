import { describe, expect, inject, it } from 'vitest';
import type { StoreKind } from '../contenders/types.js';
import { runHarness } from '../faults/coordinator.js';
import { harnessOptions } from '../faults/presets.js';
import { countersText, problems, reportTable } from '../faults/report.js';

// The short form of the fault harness (the long one is `pnpm test:faults`): ten worker processes
// per store, a few seconds of stream, every fault kind (lost replies, cut batch claims, throwing hooks and, on Postgres, cold-start
// migrations among them). Real processes and real time, so each
// store gets a generous timeout; the run itself takes well under 20 s per store.

describe('fault harness, short form', () => {
  for (const store of ['redis', 'postgres', 'dynamodb'] satisfies StoreKind[]) {
    it(`${store}: no double effects, no lost events, every fault injected`, { timeout: 90_000 }, async () => {
      const report = await runHarness({
        ...harnessOptions('short', store),
        ...(store === 'dynamodb' ? { dynamodbEndpoint: inject('dynamodbEndpoint') } : {}),
      });
      console.log(`${reportTable([report])}\n${countersText(report)}`);
      expect(problems(report)).toEqual([]);
      expect(report.doubleEffects).toBe(0);
      expect(report.lostEvents).toBe(0);
      for (const [kind, count] of Object.entries(report.faults)) {
        // Cold-start migrations are a Postgres fault; every other kind fires on every store.
        if (kind !== 'coldStartMigration' || store === 'postgres') expect(count, kind).toBeGreaterThan(0);
      }
    });
  }
});
