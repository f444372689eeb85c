import { describe, expect, inject, it } from 'vitest';
import type { StoreKind } from '../contenders/types.js';
import { runHarness } from '../faults/coordinator.js';
import { harnessOptions } from '../faults/presets.js';
import { countersText, problems, reportTable } from '../faults/report.js';

// The short form of the fault harness (the long one is `pnpm test:faults`): eight worker processes
// per store, a few seconds of stream, every fault kind. Real processes and real time, so each
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
      for (const count of Object.values(report.faults)) expect(count).toBeGreaterThan(0);
    });
  }
});
