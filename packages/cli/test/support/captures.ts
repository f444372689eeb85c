// Generated captures with known duplicates: every delivery carries (by its envelope id) the
// logical event it belongs to, so a test can check that a strategy runs each logical event once.

/** A small deterministic PRNG (mulberry32), so a failing capture can be regenerated from its seed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Kinds of delivery a generated capture holds, besides each logical event's first delivery. */
export type DuplicateKind = 'redelivery' | 'resend' | 'reEmit' | 'bucketBoundary' | 'lateRedelivery';

/** A generated capture: deliveries in arrival order, and the logical event of each envelope id. */
export interface GeneratedCapture {
  events: Record<string, unknown>[];
  logicalOf: Map<string, number>;
  logicalEvents: number;
  /** How many deliveries of each kind it holds. */
  kinds: Record<DuplicateKind | 'original' | 'repeat', number>;
}

/** Options of the generators. */
export interface CaptureOptions {
  seed?: number;
  /** Conversations (or orders). */
  entities?: number;
  /** Share of logical events that get each kind of duplicate. */
  rates?: Partial<Record<DuplicateKind, number>>;
  /** Start of the capture's event times. */
  startMs?: number;
  /**
   * Custom participant attributes per event (about 100 bytes each), as Genesys carries them: makes
   * events the size real captures have, for the memory test.
   * @default 0
   */
  attributes?: number;
}

interface Logical {
  logical: number;
  entity: string;
  participant: string;
  purpose: string;
  topic: string;
  at: number;
  /** The logical event this one legitimately repeats (same entity + state, minutes later). */
  repeats?: number;
}

interface Scheduled {
  arrival: number;
  event: Record<string, unknown>;
}

const MINUTE = 60_000;

const HEX = '0123456789abcdef';

function uuid(next: () => number): string {
  let out = '';
  for (let i = 0; i < 32; i++) {
    if (i === 8 || i === 12 || i === 16 || i === 20) out += '-';
    out += i === 12 ? '4' : i === 16 ? 'a' : HEX[Math.floor(next() * 16)];
  }
  return out;
}

/**
 * A Genesys Cloud capture as the EventBridge integration delivers it (`detail.topicName`,
 * `detail.eventBody.{eventTime, conversationId, participantId}`, `detail.metadata.CorrelationId`),
 * with redeliveries (exact copies), re-sends with new ids, re-emits a few hundred ms later with
 * new ids, re-emits straddling a second boundary, legitimate repeats of a participant's topic
 * minutes later (a reopened wrap-up), and late redeliveries of a first occurrence arriving after its repeat.
 */
export function genesysCapture(options: CaptureOptions = {}): GeneratedCapture {
  const next = random(options.seed ?? 1);
  const start = options.startMs ?? Date.UTC(2024, 2, 7, 9, 0, 0);
  const rates = { redelivery: 0.15, resend: 0.1, reEmit: 0.15, bucketBoundary: 0.05, lateRedelivery: 0.3, ...options.rates };
  const logicals: Logical[] = [];
  let counter = 0;
  for (let c = 0; c < (options.entities ?? 60); c++) {
    const conversationId = uuid(next);
    const customer = uuid(next);
    const agent = uuid(next);
    let at = start + Math.floor(next() * 30 * MINUTE);
    const add = (participant: string, purpose: string, topic: string, repeats?: number) => {
      const logical: Logical = { logical: ++counter, entity: conversationId, participant, purpose, topic, at, ...(repeats === undefined ? {} : { repeats }) };
      logicals.push(logical);
      return logical;
    };
    add(customer, 'customer', 'customer.start');
    at += 5_000 + Math.floor(next() * 20_000);
    add(agent, 'agent', 'user.start');
    at += MINUTE + Math.floor(next() * 4 * MINUTE);
    add(customer, 'customer', 'customer.end');
    at += 2_000 + Math.floor(next() * 5_000);
    const acw = add(agent, 'agent', 'acw');
    if (next() < 0.5) {
      // Reopened: a second wrap-up by the same agent, minutes later — a new logical event.
      at += 2 * MINUTE + Math.floor(next() * 10 * MINUTE);
      add(agent, 'agent', 'acw', acw.logical);
    }
  }

  const scheduled: Scheduled[] = [];
  const kinds: GeneratedCapture['kinds'] = { original: 0, repeat: 0, redelivery: 0, resend: 0, reEmit: 0, bucketBoundary: 0, lateRedelivery: 0 };
  const logicalOf = new Map<string, number>();
  const repeatArrival = new Map<number, number>();
  const attributeCount = options.attributes ?? 0;
  const attributesOf = new Map<string, Record<string, string>>();
  const attributes =
    attributeCount === 0
      ? undefined
      : (conversation: string) => {
          let found = attributesOf.get(conversation);
          if (found === undefined) {
            found = Object.fromEntries(Array.from({ length: attributeCount }, (_, i) => [`ivr.step${i}`, `${conversation}:${'menu-choice-'.repeat(6)}${i}`]));
            attributesOf.set(conversation, found);
          }
          return found;
        };
  let extra = counter;

  const deliver = (logical: number, fields: Omit<Logical, 'logical'>, arrival: number): Record<string, unknown> => {
    const id = uuid(next);
    const sentAt = fields.at + 20 + Math.floor(next() * 200);
    const event = {
      version: '0',
      id,
      'detail-type': `v2.detail.events.conversation.{id}.${fields.topic}`,
      source: 'aws.partner/genesys.com/cloud/0c3d1c44-org/idemkit-capture',
      account: '123456789012',
      time: new Date(Math.floor(sentAt / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      region: 'eu-west-1',
      resources: [],
      detail: {
        topicName: `v2.detail.events.conversation.${fields.entity}.${fields.topic}`,
        version: '2',
        timestamp: new Date(sentAt).toISOString(),
        metadata: { CorrelationId: uuid(next) },
        eventBody: {
          eventTime: new Date(fields.at).toISOString(),
          conversationId: fields.entity,
          participantId: fields.participant,
          purpose: fields.purpose,
          mediaType: 'voice',
          ...(attributes === undefined ? {} : { attributes: attributes(fields.entity) }),
        },
      },
    };
    logicalOf.set(id, logical);
    scheduled.push({ arrival, event });
    return event;
  };
  const copy = (event: Record<string, unknown>, arrival: number) => scheduled.push({ arrival, event: structuredClone(event) });

  for (const l of logicals) {
    const arrival = l.at + 100 + Math.floor(next() * 400);
    const original = deliver(l.logical, l, arrival);
    kinds[l.repeats === undefined ? 'original' : 'repeat']++;
    if (l.repeats !== undefined) repeatArrival.set(l.repeats, arrival);
    if (next() < rates.redelivery) {
      copy(original, arrival + 1_000 + Math.floor(next() * 30_000));
      kinds.redelivery++;
    }
    if (next() < rates.resend) {
      deliver(l.logical, l, arrival + 5_000 + Math.floor(next() * 60_000));
      kinds.resend++;
    }
    if (next() < rates.reEmit) {
      deliver(l.logical, { ...l, at: l.at + 1 + Math.floor(next() * 450) }, arrival + 500);
      kinds.reEmit++;
    }
    (l as Logical & { original?: Record<string, unknown> }).original = original;
  }
  // Bucket-boundary pairs: a change at …995–999 ms re-emitted 10 ms later, in the next second.
  const boundaryCount = Math.round(logicals.length * rates.bucketBoundary);
  for (let i = 0; i < boundaryCount; i++) {
    const base = logicals[Math.floor(next() * logicals.length)]!;
    const entity = uuid(next);
    const at = Math.floor(base.at / 1000) * 1000 + 995 + Math.floor(next() * 5) + 3_600_000 * 2;
    const l: Omit<Logical, 'logical'> = { entity, participant: uuid(next), purpose: 'customer', topic: 'customer.start', at };
    const logical = ++extra;
    deliver(logical, l, at + 150);
    deliver(logical, { ...l, at: at + 10 }, at + 300);
    kinds.original++;
    kinds.bucketBoundary++;
  }
  // Late redeliveries: an exact copy of a first occurrence, arriving after its legitimate repeat.
  for (const l of logicals) {
    const repeated = repeatArrival.get(l.logical);
    if (repeated === undefined || next() >= rates.lateRedelivery) continue;
    copy((l as Logical & { original: Record<string, unknown> }).original, repeated + 1_000 + Math.floor(next() * 5_000));
    kinds.lateRedelivery++;
  }

  scheduled.sort((a, b) => a.arrival - b.arrival);
  return { events: scheduled.map((s) => s.event), logicalOf, logicalEvents: extra, kinds };
}

/**
 * An order-status capture from a custom source (no preset fits): `detail.orderId`, `detail.status`,
 * `detail.updatedAt`, a fresh `detail.eventId` per send; re-emits within milliseconds, re-sends,
 * redeliveries, and orders returning to a status minutes later.
 */
export function ordersCapture(options: CaptureOptions = {}): GeneratedCapture {
  const next = random(options.seed ?? 2);
  const start = options.startMs ?? Date.UTC(2024, 5, 1, 8, 0, 0);
  const rates = { redelivery: 0.15, resend: 0.1, reEmit: 0.2, ...options.rates };
  const statuses = ['created', 'paid', 'packed', 'shipped', 'delivered'];
  const scheduled: Scheduled[] = [];
  const logicalOf = new Map<string, number>();
  const kinds: GeneratedCapture['kinds'] = { original: 0, repeat: 0, redelivery: 0, resend: 0, reEmit: 0, bucketBoundary: 0, lateRedelivery: 0 };
  let logical = 0;
  const send = (l: number, orderId: string, status: string, at: number, amount: number, arrival: number) => {
    const id = uuid(next);
    const event = {
      version: '0',
      id,
      'detail-type': 'Order Status Changed',
      source: 'com.example.orders',
      account: '123456789012',
      time: new Date(at + 50).toISOString(),
      region: 'eu-west-1',
      resources: [],
      detail: { eventId: uuid(next), orderId, status, updatedAt: at, amount, currency: 'EUR' },
    };
    logicalOf.set(id, l);
    scheduled.push({ arrival, event });
    return event;
  };
  for (let o = 0; o < (options.entities ?? 80); o++) {
    const orderId = `ord-${100_000 + o}`;
    const amount = 10 + Math.floor(next() * 500);
    let at = start + Math.floor(next() * 60 * MINUTE);
    const path = [...statuses.slice(0, 2 + Math.floor(next() * 4))];
    // Some orders go back to a status minutes later (a payment retried after a refund).
    if (next() < 0.3) path.push('refunded', 'paid');
    const seen = new Set<string>();
    for (const status of path) {
      const l = ++logical;
      const arrival = at + 100 + Math.floor(next() * 300);
      const original = send(l, orderId, status, at, amount, arrival);
      kinds[seen.has(status) ? 'repeat' : 'original']++;
      seen.add(status);
      if (next() < rates.redelivery) {
        scheduled.push({ arrival: arrival + 2_000 + Math.floor(next() * 20_000), event: structuredClone(original) });
        kinds.redelivery++;
      }
      if (next() < rates.resend) {
        send(l, orderId, status, at, amount, arrival + 10_000 + Math.floor(next() * 30_000));
        kinds.resend++;
      }
      if (next() < rates.reEmit) {
        send(l, orderId, status, at + 1 + Math.floor(next() * 200), amount, arrival + 300);
        kinds.reEmit++;
      }
      at += 3 * MINUTE + Math.floor(next() * 20 * MINUTE);
    }
  }
  scheduled.sort((a, b) => a.arrival - b.arrival);
  return { events: scheduled.map((s) => s.event), logicalOf, logicalEvents: logical, kinds };
}
