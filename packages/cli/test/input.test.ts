import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonRecordScanner } from '../src/input/json-scanner.js';
import { LineSplitter } from '../src/input/line-splitter.js';
import type { RawItem } from '../src/input/raw.js';
import { gzip, jsonl, readAll, tempDir } from './support/files.js';

const event = (n: number, extra: Record<string, unknown> = {}) => ({
  version: '0',
  id: `e-${n}`,
  'detail-type': 'Order Status Changed',
  time: '2024-03-07T10:00:00Z',
  detail: { n, note: 'quotes " braces { [ ] } and a backslash \\ and ünïcödé', ...extra },
});
const ids = (events: { event: Record<string, unknown> }[]) => events.map(({ event }) => event['id']);
const dir = tempDir();

describe('capture formats', () => {
  it("reads JSONL, one event per line, with each event's line number", async () => {
    const file = await dir.write('a.jsonl', `${JSON.stringify(event(1))}\n\n${JSON.stringify(event(2))}\r\n${JSON.stringify(event(3))}`);
    const { events, tally } = await readAll([file]);
    expect(ids(events)).toEqual(['e-1', 'e-2', 'e-3']);
    expect(events.map((e) => e.line)).toEqual([1, 3, 4]);
    expect(tally.malformed).toBe(0);
  });

  it('reads a JSON array, compact or pretty-printed, with where each element starts', async () => {
    const compact = await dir.write('compact.json', JSON.stringify([event(1), event(2)]));
    const pretty = await dir.write('pretty.json', JSON.stringify([event(1), event(2)], null, 2));
    expect(ids((await readAll([compact])).events)).toEqual(['e-1', 'e-2']);
    const read = await readAll([pretty]);
    expect(ids(read.events)).toEqual(['e-1', 'e-2']);
    expect(read.events.map((e) => e.line)).toEqual([2, 12]);
  });

  it('reads SQS events (Records[].body), SQS records, receive-message output and SNS notifications inside bodies', async () => {
    const sqs = { Records: [event(1), event(2)].map((e, i) => ({ messageId: `m-${i}`, eventSource: 'aws:sqs', body: JSON.stringify(e) })) };
    const receive = { Messages: [{ MessageId: 'm-9', Body: JSON.stringify(event(3)) }] };
    const sns = { messageId: 'm-10', body: JSON.stringify({ Type: 'Notification', Message: JSON.stringify(event(4)) }) };
    const pretty = await dir.write('sqs.json', JSON.stringify(sqs, null, 2));
    const lines = await dir.write('sqs.jsonl', jsonl([sqs, receive, sns]));
    expect(ids((await readAll([pretty])).events)).toEqual(['e-1', 'e-2']);
    expect(ids((await readAll([lines])).events)).toEqual(['e-1', 'e-2', 'e-3', 'e-4']);
  });

  it('reads CloudWatch Logs exports: prefixed log lines, filter-log-events output, subscription payloads', async () => {
    const log = await dir.write(
      'lambda.log',
      [
        'START RequestId: 0d1f Version: $LATEST',
        `2024-03-07T10:00:00.000Z\t0d1f\tINFO\t${JSON.stringify(event(1))}`,
        `2024-03-07T10:00:01.000Z ${JSON.stringify({ level: 'INFO', message: 'Lambda invocation event', event: event(2) })}`,
        'END RequestId: 0d1f',
        'REPORT RequestId: 0d1f Duration: 3.1 ms',
      ].join('\n'),
    );
    const filtered = { events: [{ timestamp: 1709805600000, message: JSON.stringify(event(3)), logStreamName: 's' }] };
    const subscription = { messageType: 'DATA_MESSAGE', logEvents: [{ id: 'x', timestamp: 1709805600000, message: JSON.stringify(event(4)) }] };
    const exported = await dir.write('filtered.json', `${JSON.stringify(filtered, null, 2)}\n${JSON.stringify(subscription)}`);
    const read = await readAll([log]);
    expect(ids(read.events)).toEqual(['e-1', 'e-2']);
    expect(read.tally.noise).toBe(3);
    expect(read.tally.malformed).toBe(0);
    expect(ids((await readAll([exported])).events)).toEqual(['e-3', 'e-4']);
  });

  it("reads Logs Insights results: the JSON export's @message, and get-query-results' field/value rows", async () => {
    const exported = await dir.write('insights.json', JSON.stringify([{ '@timestamp': '2024-03-07 10:00:00.000', '@message': JSON.stringify(event(1)) }]));
    const query = {
      status: 'Complete',
      results: [[{ field: '@timestamp', value: '2024-03-07 10:00:00.000' }, { field: '@message', value: JSON.stringify(event(2)) }]],
    };
    const queried = await dir.write('query.json', JSON.stringify(query, null, 2));
    expect(ids((await readAll([exported])).events)).toEqual(['e-1']);
    expect(ids((await readAll([queried])).events)).toEqual(['e-2']);
  });

  it('reads gzip of any format, recognised by its magic bytes whatever the file is called', async () => {
    const file = await dir.write('capture.data', gzip(JSON.stringify({ Records: [{ messageId: 'm', body: JSON.stringify(event(1)) }] })));
    const lines = await dir.write('capture.jsonl.gz', gzip(jsonl([event(2), event(3)])));
    const read = await readAll([file, lines]);
    expect(ids(read.events)).toEqual(['e-1', 'e-2', 'e-3']);
    expect(read.tally.bytesRead).toBe(read.tally.totalBytes);
  });

  it('skips a byte-order mark', async () => {
    const file = await dir.write('bom.jsonl', `\uFEFF${jsonl([event(1)])}`);
    expect(ids((await readAll([file])).events)).toEqual(['e-1']);
  });
});

describe('malformed records', () => {
  it('are counted and reported with their line numbers, and never stop the reading', async () => {
    const file = await dir.write(
      'bad.jsonl',
      [JSON.stringify(event(1)), '{"id": "e-2", "detail": {', 'not json at all', '42', JSON.stringify({ messageId: 'm', body: 'plain text' }), JSON.stringify(event(6))].join('\n'),
    );
    const { events, tally } = await readAll([file]);
    expect(ids(events)).toEqual(['e-1', 'e-6']);
    expect(tally.malformed).toBe(4);
    expect(tally.malformedExamples.map((bad) => bad.line)).toEqual([2, 3, 4, 5]);
    expect(tally.malformedExamples.map((bad) => bad.problem)).toEqual([
      'the line is not valid JSON',
      'the line is not valid JSON',
      'a JSON number, not an event object',
      'its SQS body holds no JSON object',
    ]);
  });

  it('never quote the record in the problem (captures hold payloads)', async () => {
    const file = await dir.write('secret.jsonl', '{"card": "4111-1111-1111-1111", oops}\n');
    const { tally } = await readAll([file]);
    expect(tally.malformed).toBe(1);
    expect(JSON.stringify(tally.malformedExamples)).not.toContain('4111');
  });

  it('in a JSON array are skipped alone, with the line each starts on', async () => {
    const text = `[\n${JSON.stringify(event(1))},\n7,\n"no json",\n${JSON.stringify(event(4))}\n]`;
    const { events, tally } = await readAll([await dir.write('array.json', text)]);
    expect(ids(events)).toEqual(['e-1', 'e-4']);
    expect(tally.malformedExamples.map((bad) => bad.line)).toEqual([3, 4]);
  });

  it('include a truncated gzip stream, reported once where reading stopped', async () => {
    const whole = gzip(jsonl(Array.from({ length: 2000 }, (_, i) => event(i))));
    const file = await dir.write('cut.jsonl.gz', whole.subarray(0, Math.floor(whole.length / 2)));
    const { events, tally } = await readAll([file]);
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThan(2000);
    expect(tally.malformedExamples.at(-1)?.problem).toMatch(/not valid gzip data/);
  });

  it('include a JSON value the input ends inside', async () => {
    const { events, tally } = await readAll([await dir.write('open.json', `[${JSON.stringify(event(1))}, {"id": "e-2"`)]);
    expect(ids(events)).toEqual(['e-1']);
    expect(tally.malformedExamples).toEqual([expect.objectContaining({ line: 1, problem: expect.stringMatching(/cut off/) })]);
  });
});

describe('splitting does not depend on where chunks end', () => {
  const eventArb = fc.record({
    id: fc.string({ minLength: 1, maxLength: 12 }),
    detail: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.constant(null), fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }))),
  });
  const texts = (items: RawItem[]) => items.flatMap((item) => ('text' in item ? [item.text] : []));

  const feed = (splitter: JsonRecordScanner | LineSplitter, text: string, cuts: number[]) => {
    const items: RawItem[] = [];
    let at = 0;
    for (const cut of [...cuts.map((c) => c % (text.length + 1))].sort((a, b) => a - b)) {
      items.push(...splitter.push(text.slice(at, cut)));
      at = cut;
    }
    items.push(...splitter.push(text.slice(at)), ...splitter.end());
    return items;
  };

  it('the scanner cuts the same records from any chunking of an array, a records object, or concatenated documents', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), fc.constantFrom(0, 2), fc.nat(2), (events, cuts, indent, shape) => {
        const text =
          shape === 0
            ? JSON.stringify(events, null, indent)
            : shape === 1
              ? JSON.stringify({ status: 'ok', Records: events, more: [1, 2] }, null, indent)
              : events.map((e) => JSON.stringify(e, null, indent)).join('\n');
        const items = feed(new JsonRecordScanner(), text, cuts);
        expect(items.filter((item) => 'problem' in item)).toEqual([]);
        expect(texts(items).map((t) => JSON.parse(t) as unknown)).toEqual(events);
      }),
    );
  });

  it('the line splitter cuts the same lines from any chunking', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (events, cuts) => {
        const items = feed(new LineSplitter(), jsonl(events), cuts);
        expect(texts(items).map((t) => JSON.parse(t) as unknown)).toEqual(events);
        expect(items.map((item) => item.line)).toEqual(events.map((_, i) => i + 1));
      }),
    );
  });
});
