// Builds sample-deliveries.json: Genesys Cloud conversation events as EventBridge delivers them,
// with the three kinds of duplicate DESIGN.md names. Deterministic, so the committed file is reproducible.
import { createHash } from 'node:crypto';

interface Delivery {
  /** Ground truth for the demo only: deliveries with the same logical id are one real change. */
  logicalId: string;
  kind: 'original' | 'redelivery' | 'late-redelivery' | 'resend-new-envelope-id' | 'source-reemit-new-event-id';
  event: unknown;
}

const uuid = (seed: string) => {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};
const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

function genesysEvent(envelopeSeed: string, eventSeed: string, conversation: number, state: string, atMs: number) {
  const conversationId = uuid(`conversation-${conversation}`);
  const topicName = `v2.detail.events.conversation.${conversationId}.customer.${state}`;
  return {
    version: '0',
    id: uuid(envelopeSeed),
    'detail-type': topicName,
    source: 'aws.partner/genesys.com/cloud/6f1c2d3e-0000-4000-a000-000000000001/idemkit-demo',
    account: '123456789012',
    time: iso(atMs + 40),
    region: 'us-east-1',
    resources: [],
    detail: {
      topicName,
      version: '2',
      eventBody: {
        eventTime: iso(atMs),
        conversationId,
        participantId: uuid(`participant-${conversation}`),
        state,
        mediaType: 'VOICE',
        direction: 'INBOUND',
        queueId: uuid('queue-support'),
      },
      metadata: { CorrelationId: uuid(eventSeed) },
      timestamp: iso(atMs + 12),
    },
  };
}

const deliveries: Delivery[] = [];
const states = ['start', 'connected', 'end', 'wrapup'];
for (let conversation = 0; conversation < 40; conversation++) {
  states.forEach((state, step) => {
    const at = start + conversation * 7_000 + step * 1_500;
    const logicalId = `c${conversation}-${state}`;
    const seed = `${logicalId}-1`;
    deliveries.push({ logicalId, kind: 'original', event: genesysEvent(seed, seed, conversation, state, at) });
    if (conversation % 4 === 0) {
      deliveries.push({ logicalId, kind: 'redelivery', event: genesysEvent(seed, seed, conversation, state, at) });
    }
    if (conversation % 5 === 1) {
      deliveries.push({ logicalId, kind: 'resend-new-envelope-id', event: genesysEvent(`${seed}-resend`, seed, conversation, state, at) });
    }
    if (conversation % 3 === 2 && state === 'connected') {
      // The platform emits the same state change again a few ms later, with new ids throughout.
      const again = `${logicalId}-reemit`;
      deliveries.push({ logicalId, kind: 'source-reemit-new-event-id', event: genesysEvent(again, again, conversation, state, at + 7) });
    }
  });
  if (conversation % 10 === 3) {
    // A reopened conversation connects again minutes later: a real change, not a duplicate.
    const at = start + conversation * 7_000 + 240_000;
    const logicalId = `c${conversation}-connected-again`;
    deliveries.push({ logicalId, kind: 'original', event: genesysEvent(logicalId, logicalId, conversation, 'connected', at) });
    // EventBridge retries the first `connected` after the reopened one was handled: a late redelivery.
    const first = `c${conversation}-connected`;
    const firstAt = start + conversation * 7_000 + 1_500;
    deliveries.push({ logicalId: first, kind: 'late-redelivery', event: genesysEvent(`${first}-1`, `${first}-1`, conversation, 'connected', firstAt) });
  }
}
console.log(JSON.stringify({ description: 'Genesys Cloud conversation events via EventBridge, with duplicates', deliveries }, null, 1));
