// DynamoDB request shapes, compared in pairs: the requests a contender's wrapped handler really
// sends, recorded at its client, and variants of them (the same item as a PutItem, a completion
// without its condition, a slot sent as one string), replayed with fresh keys. Used by
// bench/dynamodb-shapes.ts to say which part of a request DynamoDB Local charges for.
import { PutItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { msSince, percentile } from './stats.js';

/** One request as a contender's client was asked to send it. */
export interface RecordedRequest {
  command: 'PutItem' | 'UpdateItem';
  input: Record<string, unknown>;
}

/** An UpdateItem's input, as far as the variants read it. */
interface UpdateInput {
  TableName: string;
  Key: Record<string, AttributeValue>;
  UpdateExpression: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
  ReturnValuesOnConditionCheckFailure?: string;
}

/**
 * Records the PutItem and UpdateItem requests `client` is asked to send while `work` runs. The
 * middleware sits at the start of the stack, so it sees each command's input once (no retries).
 */
export function recorder(client: DynamoDBClient): (work: () => Promise<unknown>) => Promise<RecordedRequest[]> {
  let recording: RecordedRequest[] | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName ?? '').replace(/Command$/, '');
      if (recording !== undefined && (command === 'PutItem' || command === 'UpdateItem')) {
        recording.push({ command, input: structuredClone(args.input as Record<string, unknown>) });
      }
      return next(args);
    },
    { step: 'initialize', name: 'benchRequestRecorder', priority: 'high' },
  );
  return async (work) => {
    recording = [];
    try {
      await work();
      return recording;
    } finally {
      recording = undefined;
    }
  };
}

/** The partition key value of a recorded request (its `Key` or its `Item`). */
export function keyOf(request: RecordedRequest, partitionKey: string): string {
  const holder = (request.input['Key'] ?? request.input['Item']) as Record<string, AttributeValue> | undefined;
  const value = holder?.[partitionKey]?.S;
  if (value === undefined) throw new Error(`a recorded ${request.command} has no string ${partitionKey} in its Key or Item`);
  return value;
}

/** A copy of `value` with every string equal to `from` replaced by `to` (the key, wherever it appears). */
export function rekeyed<T>(value: T, from: string, to: string): T {
  if (value === from) return to as T;
  if (Array.isArray(value)) return value.map((entry) => rekeyed(entry, from, to)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([name, entry]) => [name, rekeyed(entry, from, to)])) as T;
  }
  return value;
}

function updateInput(request: RecordedRequest): UpdateInput {
  if (request.command !== 'UpdateItem') throw new Error(`not an UpdateItem: ${request.command}`);
  return request.input as unknown as UpdateInput;
}

/** Only the placeholders `expression` uses: DynamoDB refuses unused ones. */
function usedIn<V>(expression: string, entries: Record<string, V> | undefined): Record<string, V> | undefined {
  const used = Object.fromEntries(Object.entries(entries ?? {}).filter(([placeholder]) => new RegExp(`${placeholder}(?![\\w])`).test(expression)));
  return Object.keys(used).length === 0 ? undefined : used;
}

/** Drops undefined fields, which the SDK would otherwise send as absent anyway. */
function defined(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
}

/**
 * The `PutItem` that writes what an `UpdateItem` of an absent item creates: its `Key` plus each
 * `SET #name = :value`, under the same condition. Only for updates made of such plain assignments
 * (a blind claim of a new key); anything else throws, having no equivalent put.
 */
export function asPut(request: RecordedRequest): RecordedRequest {
  const input = updateInput(request);
  const assignments = /^SET (.+)$/.exec(input.UpdateExpression)?.[1]?.split(', ');
  if (assignments === undefined) throw new Error(`not a plain SET: ${input.UpdateExpression}`);
  const item: Record<string, AttributeValue> = { ...input.Key };
  for (const assignment of assignments) {
    const match = /^(#\w+) = (:\w+)$/.exec(assignment);
    const name = match === null ? undefined : input.ExpressionAttributeNames?.[match[1]!];
    const value = match === null ? undefined : input.ExpressionAttributeValues?.[match[2]!];
    if (name === undefined || value === undefined) throw new Error(`not a plain assignment: ${assignment}`);
    item[name] = value;
  }
  const condition = input.ConditionExpression ?? '';
  return {
    command: 'PutItem',
    input: defined({
      TableName: input.TableName,
      Item: item,
      ConditionExpression: condition === '' ? undefined : condition,
      ExpressionAttributeNames: usedIn(condition, input.ExpressionAttributeNames),
      ExpressionAttributeValues: usedIn(condition, input.ExpressionAttributeValues),
      ReturnValuesOnConditionCheckFailure: input.ReturnValuesOnConditionCheckFailure,
    }),
  };
}

/** The same update without its condition (nor the old item returned when it fails). */
export function withoutCondition(request: RecordedRequest): RecordedRequest {
  const { ConditionExpression: _condition, ReturnValuesOnConditionCheckFailure: _returned, ...input } = updateInput(request);
  return {
    command: 'UpdateItem',
    input: defined({
      ...input,
      ExpressionAttributeNames: usedIn(input.UpdateExpression, input.ExpressionAttributeNames),
      ExpressionAttributeValues: usedIn(input.UpdateExpression, input.ExpressionAttributeValues),
    }),
  };
}

/** The same update with every map value (`M`) sent as one string (`S`) of its JSON: what a map costs. */
export function mapsAsStrings(request: RecordedRequest): RecordedRequest {
  const input = updateInput(request);
  const values = Object.fromEntries(
    Object.entries(input.ExpressionAttributeValues ?? {}).map(([placeholder, value]) => [placeholder, value.M === undefined ? value : { S: JSON.stringify(value.M) }]),
  );
  return { command: 'UpdateItem', input: { ...input, ExpressionAttributeValues: values } };
}

/** Numbers the fresh keys of every comparison in this process, so no two replays share an item. */
let fresh = 0;

/** A request to time for fresh keys, after untimed `setup` requests of the same key. */
export interface Shape {
  label: string;
  setup: readonly RecordedRequest[];
  timed: RecordedRequest;
  /** The key the recorded requests carry, replaced by a fresh one on every replay. */
  key: string;
  /** A refused claim fails its condition by design. */
  refused?: boolean;
}

/** Two shapes' times over alternating runs: the median of the per-run ratios, and their quartiles. */
export interface PairFigure {
  a: string;
  b: string;
  aMicroseconds: number;
  bMicroseconds: number;
  ratio: { median: number; lower: number; upper: number };
  runs: number;
}

/**
 * Times `a` and `b` in alternating runs of `perRun` fresh keys each (`a` first in even runs, `b`
 * in odd ones), so a drift of the server's speed meets both alike: per run pair, the ratio of
 * their mean request times, and over all pairs its median and quartiles.
 */
export async function comparePair(client: DynamoDBClient, a: Shape, b: Shape, options: { perRun: number; runs: number }): Promise<PairFigure> {
  const run = async (shape: Shape): Promise<number> => {
    const keys = Array.from({ length: options.perRun }, () => `${shape.key}#shape${fresh++}`);
    for (const key of keys) for (const request of shape.setup) await send(client, request, shape.key, key, false);
    const start = process.hrtime.bigint();
    for (const key of keys) await send(client, shape.timed, shape.key, key, shape.refused === true);
    return (msSince(start) * 1000) / options.perRun;
  };
  const times = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < options.runs; i++) {
    if (i % 2 === 0) {
      times.a.push(await run(a));
      times.b.push(await run(b));
    } else {
      times.b.push(await run(b));
      times.a.push(await run(a));
    }
  }
  const ratios = times.a.map((time, i) => time / times.b[i]!);
  return {
    a: a.label,
    b: b.label,
    aMicroseconds: quantile(times.a, 0.5),
    bMicroseconds: quantile(times.b, 0.5),
    ratio: { median: quantile(ratios, 0.5), lower: quantile(ratios, 0.25), upper: quantile(ratios, 0.75) },
    runs: options.runs,
  };
}

async function send(client: DynamoDBClient, request: RecordedRequest, from: string, to: string, mayFail: boolean): Promise<void> {
  const input = rekeyed(request.input, from, to) as never;
  try {
    if (request.command === 'PutItem') await client.send(new PutItemCommand(input));
    else await client.send(new UpdateItemCommand(input));
  } catch (error) {
    if (!(mayFail && (error as Error).name === 'ConditionalCheckFailedException')) throw error;
  }
}

/** A nearest-rank quantile of unsorted samples (stats.ts' percentile, which takes them sorted). */
export function quantile(values: readonly number[], q: number): number {
  return percentile([...values].sort((x, y) => x - y), q);
}
