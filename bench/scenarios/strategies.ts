import { createHash } from 'node:crypto';
import { strategyFromConfig, type StrategyConfig } from '@idemkit/core';
import { genesysCloud } from '@idemkit/eventbridge';
import { genesysEvent2k, jsonBytes, type GenesysEvent } from '../lib/events.js';
import { msSince } from '../lib/stats.js';

/** Keys per second of one way to key an event. */
export interface StrategyResult {
  name: string;
  config: string;
  opsPerSecond: number;
}

const stateWindow: StrategyConfig = {
  strategy: 'stateWindow',
  entity: 'detail.eventBody.conversationId',
  state: 'detail.eventBody.state',
  time: 'detail.eventBody.eventTime',
  windowMs: 500,
};

/** The built-in strategies as a Genesys consumer would configure them. */
export const STRATEGIES: { name: string; config: StrategyConfig }[] = [
  { name: 'eventId', config: { strategy: 'eventId' } },
  { name: 'stateWindow', config: stateWindow },
  { name: 'contentHash', config: { strategy: 'contentHash', include: ['detail'], exclude: ['detail.timestamp', 'detail.metadata'] } },
  {
    name: 'composite',
    config: { strategy: 'composite', of: [{ strategy: 'eventId', path: 'detail.eventBody.participantId' }, stateWindow] },
  },
];

/**
 * Keys per second of each strategy and of the Genesys Cloud preset on a ~2 KB Genesys event,
 * and of plain `JSON.stringify` + SHA-256 of the same event (what a home-made content key costs).
 */
export async function measureStrategies(durationMs: number): Promise<{ eventBytes: number; results: StrategyResult[] }> {
  const event = genesysEvent2k({ state: 'connected' });
  const preset = genesysCloud();
  const contenders = [
    ...STRATEGIES.map(({ name, config }) => {
      const strategy = strategyFromConfig(config);
      return { name, config: JSON.stringify(config), keyFor: (e: GenesysEvent) => strategy.keyFor(e) };
    }),
    { name: 'genesysCloud preset', config: '{"preset":"genesysCloud"}', keyFor: (e: GenesysEvent) => preset.keyFor(e) },
    {
      name: 'JSON.stringify + SHA-256',
      config: 'createHash("sha256").update(JSON.stringify(event)).digest("hex")',
      keyFor: (e: GenesysEvent) => createHash('sha256').update(JSON.stringify(e)).digest('hex'),
    },
  ];
  const totals = contenders.map(() => ({ ops: 0, ms: 0 }));
  for (const contender of contenders) spin(contender.keyFor, event, durationMs / 4); // warm-up: let V8 optimise
  for (let round = 0; round < 3; round++) {
    contenders.forEach((contender, index) => {
      const { ops, ms } = spin(contender.keyFor, event, durationMs / 3);
      totals[index]!.ops += ops;
      totals[index]!.ms += ms;
    });
  }
  return {
    eventBytes: jsonBytes(event),
    results: contenders.map((contender, index) => ({
      name: contender.name,
      config: contender.config,
      opsPerSecond: (totals[index]!.ops * 1000) / totals[index]!.ms,
    })),
  };
}

/** Calls `keyFor` in blocks of 100 until `durationMs` passed; the key is kept so nothing is optimised away. */
function spin(keyFor: (event: GenesysEvent) => unknown, event: GenesysEvent, durationMs: number): { ops: number; ms: number } {
  let ops = 0;
  let sink: unknown;
  const start = process.hrtime.bigint();
  do {
    for (let i = 0; i < 100; i++) sink = keyFor(event);
    ops += 100;
  } while (msSince(start) < durationMs);
  if (sink === undefined) throw new Error('a strategy returned no key');
  return { ops, ms: msSince(start) };
}
