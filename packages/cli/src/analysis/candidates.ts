import { anyOf, contentHash, eventId, KeyExtractionError, stateWindow, type DedupKeyStrategy } from '@idemkit/core';
import { GENESYS_CLOUD_WINDOW_MS, genesysCloud, NICE_CXONE_WINDOW_MS, niceCxone } from '@idemkit/eventbridge';
import type { DiscoveredFields } from './discover.js';
import { formatMs, type Occurrence } from './gaps.js';

/** The kind of a candidate; also how simple it is to run, for breaking ties. */
export type Family = 'eventId' | 'contentHash' | 'preset' | 'stateWindow' | 'given' | 'anyOf';

/** Simpler first: among candidates with as few warnings, the simplest is recommended. */
export const FAMILY_RANK: Record<Family, number> = { eventId: 0, contentHash: 1, preset: 2, stateWindow: 3, given: 3, anyOf: 4 };

/** How a candidate reads for people and deploys: a label, its JSON config, and the same in code. */
export interface Described {
  label: string;
  /** What `IDEMKIT_STRATEGY` would hold (core's config, or a preset's `{ "preset": … }`). */
  config: unknown;
  /** The same strategy in code. */
  code: string;
}

/**
 * A candidate strategy before its window is known: windowed candidates get theirs from the gaps
 * of the identity named in `windowFrom` (or `--window-ms`).
 */
export interface Plan {
  family: Family;
  /** Id of the windowed identity whose gaps choose this plan's window; absent: not re-windowed. */
  windowFrom?: string;
  describe(windowMs: number | undefined): Described;
  build(windowMs: number | undefined): DedupKeyStrategy;
}

/** A windowed identity (entity + state) whose gaps are measured to choose a window. */
export interface WindowedShape {
  id: string;
  label: string;
  /** The window used when the gaps show no clear separation. */
  fallbackMs: number;
  /** A given strategy's own window: it is never re-windowed from the gaps. */
  fixedMs?: number;
  occurrenceOf(event: unknown): Occurrence | undefined;
}

/** The candidates to run and the identities whose gaps choose their windows. */
export interface CandidateSet {
  plans: Plan[];
  shapes: WindowedShape[];
  /** The identity taken as "the same entity + state" for judging missed duplicates; the one charted first. */
  reference?: WindowedShape;
}

/** Options of {@link planCandidates}. */
export interface PlanOptions {
  /** Strategies given with `--strategy`: JSON config or a preset name, already resolved. */
  given?: readonly { text: string; config: unknown; strategy: DedupKeyStrategy }[];
  /** Build the candidates from the discovered fields and the presets. @default true */
  discover?: boolean;
  /** Force the reference identity's entity and state (`--entity`, `--state`). */
  entity?: string;
  state?: string;
}

// A discovered candidate must build a key for nearly every sampled event; a preset for most.
const DISCOVERED_COVERAGE = 0.9;
const PRESET_COVERAGE = 0.8;
const DEFAULT_WINDOW_MS = 1_000;
const LIMITS = { sourceIds: 3, deliveryIds: 2, coarseIds: 2, entities: 2, states: 2 } as const;

const q = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * Builds the candidates for a capture: `eventId` on the envelope id and on the ids the sample
 * shows (source ids, delivery ids, and entity ids — the classic too-coarse guess), `stateWindow`
 * over the best entities × states with the event time, `contentHash` without the volatile fields,
 * every preset that reads most of the sample, `anyOf` the envelope id with the best windowed
 * candidate, and the strategies given with `--strategy`.
 */
export function planCandidates(fields: DiscoveredFields, sample: readonly unknown[], options: PlanOptions = {}): CandidateSet {
  const plans: Plan[] = [];
  const shapes: WindowedShape[] = [];
  const fits = (strategy: DedupKeyStrategy, share: number) => coverage(strategy, sample) >= share;
  const windowed: { plan: Plan; shape: WindowedShape }[] = [];
  let envelopeId: Plan | undefined;

  if (options.discover !== false) {
    // The envelope id is the default strategy: always a candidate when the events carry one.
    envelopeId = eventIdPlan('id');
    if (fits(envelopeId.build(undefined), DISCOVERED_COVERAGE)) plans.push(envelopeId);
    else envelopeId = undefined;
    const idPaths = unique([
      ...fields.sourceIds.slice(0, LIMITS.sourceIds),
      ...fields.deliveryIds.filter((path) => path !== 'id').slice(0, LIMITS.deliveryIds),
      ...fields.entities.slice(0, LIMITS.coarseIds),
    ]);
    for (const path of idPaths.filter((path) => path !== 'id')) {
      const plan = eventIdPlan(path);
      if (fits(plan.build(undefined), DISCOVERED_COVERAGE)) plans.push(plan);
    }
    for (const preset of presetPlans()) {
      if (!fits(preset.plan.build(undefined), PRESET_COVERAGE)) continue;
      windowed.push(preset);
    }
    if (fields.eventTime !== undefined) {
      const time = fields.eventTime;
      const entities = options.entity === undefined ? fields.entities.slice(0, LIMITS.entities) : [options.entity];
      const states = options.state === undefined ? fields.states.slice(0, LIMITS.states) : [options.state];
      // The best entity with each state, then the next entity with the best state: three at most.
      const pairs = [...states.map((state) => [entities[0], state] as const), [entities[1], states[0]] as const];
      for (const [entity, state] of pairs) {
        if (entity === undefined || state === undefined || entity === state) continue;
        const found = stateWindowPlan(entity, state, time);
        if (fits(found.plan.build(undefined), DISCOVERED_COVERAGE)) windowed.push(found);
      }
    }
    // With --entity/--state the user named the identity to judge by; otherwise a preset knows its source best.
    if (options.entity !== undefined || options.state !== undefined) windowed.sort((a, b) => rankForced(a) - rankForced(b));
    const hash = contentHashPlan(sample, fields.volatile);
    if (fits(hash.build(undefined), DISCOVERED_COVERAGE)) plans.push(hash);
  }
  for (const { plan, shape } of windowed) {
    plans.push(plan);
    shapes.push(shape);
  }
  const best = windowed[0];
  // Redeliveries by id, logical duplicates by window: a late redelivery is caught whatever the window did since.
  if (best !== undefined && envelopeId !== undefined) plans.push(anyOfPlan(envelopeId, best.plan, best.shape.id));
  let givenReference: WindowedShape | undefined;
  options.given?.forEach((given, index) => {
    plans.push(givenPlan(given, index));
    const shape = shapeOf(given.strategy, `given-${index + 1}`, `--strategy #${index + 1} key`, DEFAULT_WINDOW_MS, true);
    if (shape === undefined) return;
    shapes.push(shape);
    givenReference ??= shape;
  });
  // Duplicates are judged by the best discovered windowed identity, else by the first given one.
  const reference = best?.shape ?? givenReference;
  return { plans, shapes, ...(reference === undefined ? {} : { reference }) };
}

function rankForced(entry: { plan: Plan }): number {
  return entry.plan.family === 'stateWindow' ? 0 : 1;
}

function eventIdPlan(path: string): Plan {
  const config = path === 'id' ? { strategy: 'eventId' } : { strategy: 'eventId', path };
  return {
    family: 'eventId',
    describe: () => ({ label: `eventId(${path})`, config, code: path === 'id' ? 'eventId()' : `eventId({ path: ${q(path)} })` }),
    build: () => eventId(path === 'id' ? {} : { path }),
  };
}

function stateWindowPlan(entity: string, state: string, time: string): { plan: Plan; shape: WindowedShape } {
  const id = `stateWindow(${entity}, ${state})`;
  const plan: Plan = {
    family: 'stateWindow',
    windowFrom: id,
    describe: (windowMs = DEFAULT_WINDOW_MS) => ({
      label: `stateWindow(${entity}, ${state}, ${time}, ${formatMs(windowMs)})`,
      config: { strategy: 'stateWindow', entity, state, time, windowMs },
      code: `stateWindow({ entity: ${q(entity)}, state: ${q(state)}, time: ${q(time)}, windowMs: ${windowMs} })`,
    }),
    build: (windowMs = DEFAULT_WINDOW_MS) => stateWindow({ entity, state, time, windowMs }),
  };
  return { plan, shape: shapeOf(plan.build(undefined), id, `${entity} + ${state}`, DEFAULT_WINDOW_MS)! };
}

function presetPlans(): { plan: Plan; shape: WindowedShape }[] {
  const presets = [
    { name: 'genesysCloud', make: genesysCloud, fallbackMs: GENESYS_CLOUD_WINDOW_MS },
    { name: 'niceCxone', make: niceCxone, fallbackMs: NICE_CXONE_WINDOW_MS },
  ] as const;
  return presets.map(({ name, make, fallbackMs }) => {
    const plan: Plan = {
      family: 'preset',
      windowFrom: name,
      describe: (windowMs = fallbackMs) => ({
        label: `${name}(${formatMs(windowMs)})`,
        config: windowMs === fallbackMs ? { preset: name } : { preset: name, windowMs },
        code: windowMs === fallbackMs ? `${name}()` : `${name}({ windowMs: ${windowMs} })`,
      }),
      build: (windowMs = fallbackMs) => make({ windowMs }),
    };
    return { plan, shape: shapeOf(plan.build(undefined), name, `${name} key`, fallbackMs)! };
  });
}

function contentHashPlan(sample: readonly unknown[], volatile: readonly string[]): Plan {
  const detailed = sample.length > 0 && sample.every((event) => isObject((event as Record<string, unknown>)['detail']));
  const exclude = detailed ? volatile.filter((path) => path.startsWith('detail.')) : [...volatile];
  const options = { ...(detailed ? { include: ['detail'] } : {}), ...(exclude.length === 0 ? {} : { exclude }) };
  const list = (paths: readonly string[]) => `[${paths.map(q).join(', ')}]`;
  return {
    family: 'contentHash',
    describe: () => ({
      label: `contentHash(${detailed ? 'detail' : 'event'}${exclude.length === 0 ? '' : ` − ${exclude.length} volatile`})`,
      config: { strategy: 'contentHash', ...options },
      code: `contentHash({ ${[
        ...(detailed ? [`include: ['detail']`] : []),
        ...(exclude.length === 0 ? [] : [`exclude: ${list(exclude)}`]),
      ].join(', ')} })`,
    }),
    build: () => contentHash(options),
  };
}

function anyOfPlan(first: Plan, second: Plan, windowFrom: string): Plan {
  return {
    family: 'anyOf',
    windowFrom,
    describe: (windowMs) => {
      const [a, b] = [first.describe(undefined), second.describe(windowMs)];
      return { label: `anyOf(${a.label}, ${b.label})`, config: { strategy: 'anyOf', of: [a.config, b.config] }, code: `anyOf([${a.code}, ${b.code}])` };
    },
    build: (windowMs) => anyOf([first.build(undefined), second.build(windowMs)]),
  };
}

function givenPlan(given: { text: string; config: unknown; strategy: DedupKeyStrategy }, index: number): Plan {
  return {
    family: 'given',
    describe: () => ({ label: `--strategy #${index + 1} (${given.strategy.name})`, config: given.config, code: `resolveStrategy(${JSON.stringify(given.text)})` }),
    build: () => given.strategy,
  };
}

/**
 * The entity + state occurrence a windowed strategy sees in an event, or nothing when it is not
 * windowed; `fixed` keeps the strategy's own window (a given strategy is never re-windowed).
 */
export function shapeOf(strategy: DedupKeyStrategy, id: string, label: string, fallbackMs: number, fixed = false): WindowedShape | undefined {
  const windowMs = (strategy as { windowMs?: unknown }).windowMs;
  if (typeof windowMs !== 'number') return undefined;
  return {
    id,
    label,
    fallbackMs,
    ...(fixed ? { fixedMs: windowMs } : {}),
    occurrenceOf(event) {
      try {
        const key = strategy.keyFor(event);
        return key.window === undefined ? undefined : { identity: key.key, at: key.window.at };
      } catch (error) {
        if (error instanceof KeyExtractionError) return undefined;
        throw error;
      }
    },
  };
}

/** Share of the sample a strategy builds a key for. */
function coverage(strategy: DedupKeyStrategy, sample: readonly unknown[]): number {
  if (sample.length === 0) return 0;
  let keyed = 0;
  for (const event of sample) {
    try {
      strategy.keyFor(event);
      keyed++;
    } catch (error) {
      if (!(error instanceof KeyExtractionError)) throw error;
    }
  }
  return keyed / sample.length;
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unique(paths: readonly string[]): string[] {
  return [...new Set(paths)];
}
