import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { demoStrategies, replay, type Delivery } from '../replay-lib.js';

const { deliveries } = JSON.parse(readFileSync(new URL('../sample-deliveries.json', import.meta.url), 'utf8')) as { deliveries: Delivery[] };

describe('pnpm demo', () => {
  it('shows the presets and the right hand-written strategies processing each real change once', async () => {
    const rows = Object.fromEntries((await replay(demoStrategies, deliveries)).map((row) => [row.strategy, row]));
    for (const right of ['stateWindow (conversation + state, 500 ms)', 'anyOf (envelope id, state window)', 'preset genesysCloud()']) {
      expect(rows[right]).toMatchObject({ 'double effects': 0, 'lost events': 0 });
    }
    // The sample holds every kind of duplicate, including a late redelivery after a legitimate repeat.
    expect(new Set(deliveries.map((delivery) => delivery.kind))).toEqual(
      new Set(['original', 'redelivery', 'late-redelivery', 'resend-new-envelope-id', 'source-reemit-new-event-id']),
    );
    expect(rows['eventId (envelope id)']!['double effects']).toBeGreaterThan(0);
    expect(rows['eventId (conversationId only: wrong key)']!['lost events']).toBeGreaterThan(0);
  });
});
