import type { RawItem } from './raw.js';

/**
 * Keys of a top-level object whose array holds the records: SQS events (`Records`), `aws sqs
 * receive-message` output (`Messages`), `aws logs filter-log-events` output (`events`), Logs
 * Insights `get-query-results` (`results`) and CloudWatch Logs subscription payloads (`logEvents`).
 */
export const CONTAINER_KEYS: ReadonlySet<string> = new Set(['Records', 'Messages', 'events', 'results', 'logEvents']);

/** A single record (a top-level object without a records array) larger than this is refused, not buffered. */
export const MAX_RECORD_CHARS = 64 * 1024 * 1024;

const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const COMMA = 0x2c; // ,
const COLON = 0x3a; // :
const NEWLINE = 0x0a;

function isSpace(code: number): boolean {
  return code === 0x20 || code === NEWLINE || code === 0x0d || code === 0x09 || code === 0xfeff;
}

/**
 * Splits a stream of JSON text into records without parsing (or holding) the whole document:
 * the elements of a top-level array, the elements of a records array (see {@link CONTAINER_KEYS})
 * inside a top-level object, or a top-level object without one, whole. Several top-level values
 * may follow each other (concatenated or pretty-printed dumps).
 *
 * It tracks only brackets and strings, so memory is one record plus one chunk; the text of each
 * record is parsed later, where a bad record costs only itself.
 */
export class JsonRecordScanner {
  private buf = '';
  private pos = 0;
  private line = 1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Depth whose direct children are records (1: a top-level array, 2: a records array); 0: none. */
  private recordDepth = 0;
  private recordStart = -1;
  private recordLine = 0;
  private inPrimitive = false;
  /** A top-level object kept whole unless it turns out to hold a records array. */
  private wholeStart = -1;
  private wholeLine = 0;
  /** Key tracking at depth 1 of a top-level object, to spot `"Records": [`. */
  private inTopObject = false;
  private keyStart = -1;
  private expectingKey = false;
  private pendingKey: string | undefined;
  private containerPending = false;
  private garbageLine = 0;

  /** The line the scan has reached. */
  get currentLine(): number {
    return this.line;
  }

  /** Scans one chunk; returns the records (and problems) it completed. */
  push(chunk: string): RawItem[] {
    this.buf += chunk;
    const out: RawItem[] = [];
    this.scan(out);
    this.compact(out);
    return out;
  }

  /** Ends the input; returns what was left unfinished as a problem. */
  end(): RawItem[] {
    const out: RawItem[] = [];
    if (this.inPrimitive) this.finishPrimitive(this.buf.length, out);
    this.flushGarbage(out);
    if (this.recordStart >= 0) {
      out.push({ line: this.recordLine, problem: 'the record is cut off: the input ends inside it' });
    } else if (this.wholeStart >= 0 || this.depth > 0) {
      out.push({ line: this.wholeStart >= 0 ? this.wholeLine : this.line, problem: 'the input ends inside an unclosed JSON value' });
    }
    this.buf = '';
    this.pos = 0;
    return out;
  }

  private scan(out: RawItem[]): void {
    const buf = this.buf;
    const length = buf.length;
    let i = this.pos;
    for (; i < length; i++) {
      const code = buf.charCodeAt(i);
      if (code === NEWLINE) this.line++;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (code === BACKSLASH) this.escaped = true;
        else if (code === QUOTE) this.closeString(i, out);
        continue;
      }
      if (this.inPrimitive) {
        if (code !== COMMA && code !== CLOSE_ARRAY && code !== CLOSE_OBJECT && !isSpace(code)) continue;
        this.finishPrimitive(i, out);
      }
      if (isSpace(code)) continue;
      if (this.depth === 0) {
        this.topLevel(code, i, out);
        continue;
      }
      if (this.garbageLine !== 0) this.flushGarbage(out);
      if (this.depth === this.recordDepth && this.recordStart < 0 && code !== COMMA && code !== CLOSE_ARRAY) {
        this.recordStart = i;
        this.recordLine = this.line;
        if (code !== OPEN_OBJECT && code !== OPEN_ARRAY && code !== QUOTE) {
          this.inPrimitive = true;
          continue;
        }
      }
      this.structural(code, i, out);
    }
    this.pos = i;
  }

  // Outside any value: a new top-level array or object starts, or there is text that is no JSON.
  private topLevel(code: number, i: number, out: RawItem[]): void {
    if (code === OPEN_ARRAY) {
      this.flushGarbage(out);
      this.depth = 1;
      this.recordDepth = 1;
    } else if (code === OPEN_OBJECT) {
      this.flushGarbage(out);
      this.depth = 1;
      this.wholeStart = i;
      this.wholeLine = this.line;
      this.inTopObject = true;
      this.expectingKey = true;
    } else if (code !== COMMA && this.garbageLine === 0) {
      this.garbageLine = this.line;
    }
  }

  private structural(code: number, i: number, out: RawItem[]): void {
    switch (code) {
      case QUOTE:
        this.inString = true;
        if (this.depth === 1 && this.expectingKey && this.inTopObject) this.keyStart = i;
        return;
      case COLON:
        if (this.depth === 1 && this.pendingKey !== undefined) this.containerPending = CONTAINER_KEYS.has(this.pendingKey);
        return;
      case COMMA:
        if (this.depth === 1) {
          this.expectingKey = this.inTopObject;
          this.pendingKey = undefined;
          this.containerPending = false;
        }
        return;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        if (this.depth === 1 && this.containerPending && code === OPEN_ARRAY) {
          // `"Records": [`: its elements are the records; the object around them is not one.
          this.recordDepth = 2;
          this.wholeStart = -1;
        }
        this.containerPending = false;
        this.depth++;
        return;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        this.depth--;
        if (this.depth < this.recordDepth) this.recordDepth = 0;
        if (this.recordStart >= 0 && this.depth === this.recordDepth) this.emitRecord(i + 1, out);
        if (this.depth === 0) this.closeTopLevel(i, out);
        return;
      default:
        return;
    }
  }

  private closeString(i: number, out: RawItem[]): void {
    this.inString = false;
    if (this.keyStart >= 0) {
      this.pendingKey = this.buf.slice(this.keyStart + 1, i);
      this.keyStart = -1;
      this.expectingKey = false;
    }
    if (this.recordStart >= 0 && this.depth === this.recordDepth) this.emitRecord(i + 1, out);
  }

  private finishPrimitive(end: number, out: RawItem[]): void {
    this.inPrimitive = false;
    this.emitRecord(end, out);
  }

  private emitRecord(end: number, out: RawItem[]): void {
    out.push({ line: this.recordLine, text: this.buf.slice(this.recordStart, end) });
    this.recordStart = -1;
  }

  private closeTopLevel(i: number, out: RawItem[]): void {
    if (this.wholeStart >= 0) out.push({ line: this.wholeLine, text: this.buf.slice(this.wholeStart, i + 1) });
    this.wholeStart = -1;
    this.inTopObject = false;
    this.recordDepth = 0;
    this.expectingKey = false;
    this.pendingKey = undefined;
    this.containerPending = false;
  }

  private flushGarbage(out: RawItem[]): void {
    if (this.garbageLine === 0) return;
    out.push({ line: this.garbageLine, problem: 'text outside any JSON value' });
    this.garbageLine = 0;
  }

  // Drops scanned text nothing refers to any more, so memory stays one record plus one chunk.
  private compact(out: RawItem[]): void {
    if (this.wholeStart >= 0 && this.pos - this.wholeStart > MAX_RECORD_CHARS) {
      this.wholeStart = -1; // keep scanning its brackets, but stop holding its text
      out.push({ line: this.wholeLine, problem: `the record is larger than ${MAX_RECORD_CHARS} characters` });
    }
    const starts = [this.recordStart, this.wholeStart, this.keyStart].filter((start) => start >= 0);
    const keep = starts.length === 0 ? this.pos : Math.min(...starts);
    if (keep === 0) return;
    this.buf = this.buf.slice(keep);
    this.pos -= keep;
    if (this.recordStart >= 0) this.recordStart -= keep;
    if (this.wholeStart >= 0) this.wholeStart -= keep;
    if (this.keyStart >= 0) this.keyStart -= keep;
  }
}
