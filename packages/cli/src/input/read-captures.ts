import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { JsonRecordScanner } from './json-scanner.js';
import { LineSplitter } from './line-splitter.js';
import type { RawItem } from './raw.js';
import { unwrap, unwrapLogLine } from './unwrap.js';

/** One event read from a capture, with where it was found. */
export interface CaptureEvent {
  event: Record<string, unknown>;
  /** The file, as given. */
  file: string;
  /** The line (of the decompressed text) its record starts on, from 1. */
  line: number;
}

/** A record that could not be read; reported, never fatal. */
export interface MalformedRecord {
  file: string;
  line: number;
  /** What is wrong, without quoting the record (captures hold payloads). */
  problem: string;
}

/** What reading found so far: counts for the report, bytes for the progress bar. */
export interface ReadTally {
  /** Events handed out. */
  events: number;
  /** Records that could not be read. */
  malformed: number;
  /** The first malformed records, with their line numbers. */
  malformedExamples: MalformedRecord[];
  /** Log lines with no JSON in them (a Lambda log's START/END/REPORT lines), skipped. */
  noise: number;
  /** Bytes read from disk so far (compressed bytes for gzip files). */
  bytesRead: number;
  /** Size on disk of all the files. */
  totalBytes: number;
}

/** Options of {@link readCaptures}. */
export interface ReadOptions {
  /**
   * How many malformed records are kept with their line numbers (all are counted).
   * @default 20
   */
  malformedExamples?: number;
}

/** A fresh, empty {@link ReadTally}. */
export function emptyTally(): ReadTally {
  return { events: 0, malformed: 0, malformedExamples: [], noise: 0, bytesRead: 0, totalBytes: 0 };
}

// How much text decides the format: a few lines, or this much of one long line.
const SNIFF_LINES = 5;
const SNIFF_CHARS = 64 * 1024;
const CHUNK_BYTES = 1024 * 1024;

type Mode = { kind: 'json' } | { kind: 'lines'; logLines: boolean };

/**
 * Streams the events of capture files — JSONL, a JSON array, SQS events or records,
 * CloudWatch Logs exports (a JSON message per line, `filter-log-events` output, Logs Insights
 * `@message`), or gzip of any of them (recognised by its magic bytes, not its name) — one chunk
 * at a time, so a file of any size reads in bounded memory. A malformed record is counted in
 * `tally` with its line number and skipped.
 * @example
 * const tally = emptyTally();
 * for await (const { event, line } of readCaptures(['capture.jsonl.gz'], tally)) console.log(line, event.id);
 */
export async function* readCaptures(
  files: readonly string[],
  tally: ReadTally,
  options: ReadOptions = {},
): AsyncGenerator<CaptureEvent> {
  const keep = options.malformedExamples ?? 20;
  const sizes = await Promise.all(files.map(async (file) => (await stat(file)).size));
  tally.totalBytes = sizes.reduce((sum, size) => sum + size, 0);
  for (const file of files) {
    const report = (line: number, problem: string) => {
      tally.malformed++;
      if (tally.malformedExamples.length < keep) tally.malformedExamples.push({ file, line, problem });
    };
    for await (const item of rawItems(file, tally)) {
      if ('problem' in item) {
        report(item.line, item.problem);
        continue;
      }
      for (const found of parseItem(item.text, item.mode)) {
        if ('event' in found) {
          tally.events++;
          yield { event: found.event, file, line: item.line };
        } else if ('noise' in found) tally.noise++;
        else report(item.line, found.problem);
      }
    }
  }
}

type ModedItem = { line: number; problem: string } | { line: number; text: string; mode: Mode };

// Decompressed text of one file, cut into records by the splitter its first lines call for.
async function* rawItems(file: string, tally: ReadTally): AsyncGenerator<ModedItem> {
  let head = '';
  let mode: Mode | undefined;
  let splitter: JsonRecordScanner | LineSplitter | undefined;
  const moded = (items: RawItem[]): ModedItem[] => items.map((item) => ('text' in item ? { ...item, mode: mode! } : item));
  const start = (text: string): ModedItem[] => {
    mode = chooseMode(text);
    splitter = mode.kind === 'json' ? new JsonRecordScanner() : new LineSplitter();
    return moded(splitter.push(text));
  };
  try {
    for await (const chunk of textChunks(file, tally)) {
      if (splitter !== undefined) {
        yield* moded(splitter.push(chunk));
        continue;
      }
      head += chunk;
      if (!sniffable(head)) continue;
      yield* start(head);
      head = '';
    }
  } catch (error) {
    // Corrupt or truncated gzip data has no next line to resume at: report where reading stopped.
    const code = (error as { code?: string }).code;
    if (code === undefined || !code.startsWith('Z_')) throw error;
    const line = splitter?.currentLine ?? 1;
    yield* splitter === undefined ? [] : moded(splitter.end());
    yield { line, problem: `the rest of the file is not valid gzip data (${code})` };
    return;
  }
  if (splitter === undefined) {
    if (head.trim() === '') return;
    yield* start(head);
  }
  yield* moded(splitter!.end());
}

async function* textChunks(file: string, tally: ReadTally): AsyncGenerator<string> {
  const raw = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  let source: AsyncIterable<Buffer> = raw;
  let counted = false;
  if (await isGzip(file)) {
    // Progress counts bytes on disk: the compressed ones, seen where they leave the file.
    const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
    raw.on('data', (bytes: Buffer | string) => {
      tally.bytesRead += bytes.length;
    });
    raw.on('error', (error) => gunzip.destroy(error));
    source = raw.pipe(gunzip);
    counted = true;
  }
  // StringDecoder keeps a character split across two chunks whole.
  const decoder = new StringDecoder('utf8');
  let first = true;
  for await (const bytes of source) {
    if (!counted) tally.bytesRead += bytes.length;
    let text = decoder.write(bytes);
    if (first && text !== '') {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark is no JSON
      first = false;
    }
    if (text !== '') yield text;
  }
  const rest = decoder.end();
  if (rest !== '') yield rest;
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const magic = Buffer.alloc(2);
    const { bytesRead } = await handle.read(magic, 0, 2, 0);
    return bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

function sniffable(head: string): boolean {
  if (head.length >= SNIFF_CHARS) return true;
  let lines = 0;
  for (let at = head.indexOf('\n'); at >= 0; at = head.indexOf('\n', at + 1)) if (++lines >= SNIFF_LINES) return true;
  return false;
}

/**
 * A file starting with `[` is a JSON array; one starting with `{` is JSONL when one of its first
 * lines is a whole JSON value, otherwise a (pretty-printed) JSON document; anything else is a log
 * export, whose lines carry JSON after a prefix and whose lines without JSON are noise.
 */
export function chooseMode(head: string): Mode {
  const first = head.trimStart()[0];
  if (first === '[') return { kind: 'json' };
  if (first !== '{') return { kind: 'lines', logLines: true };
  const lines = head.split('\n').slice(0, SNIFF_LINES).filter((line) => line.trim() !== '');
  return lines.some(isWholeJson) ? { kind: 'lines', logLines: false } : { kind: 'json' };
}

function isWholeJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

function parseItem(text: string, mode: Mode): ReturnType<typeof unwrap> {
  const start = text.trimStart()[0];
  // A log line carries its JSON after a prefix; every other record is JSON from its first character.
  if (mode.kind === 'lines' && mode.logLines && start !== '{' && start !== '[') {
    return text.includes('{') ? unwrapLogLine(text) : [{ noise: true }];
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text: never echo payloads into a report.
    return [{ problem: mode.kind === 'json' ? 'the record is not valid JSON' : 'the line is not valid JSON' }];
  }
  return unwrap(value);
}
