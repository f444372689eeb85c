import type { RawItem } from './raw.js';

/** Cuts text chunks into lines (`\n` or `\r\n`), numbered from 1; blank lines are dropped. */
export class LineSplitter {
  private rest = '';
  private line = 0;

  /** The number of the last line cut so far. */
  get currentLine(): number {
    return this.line;
  }

  /** Takes one chunk; returns the lines it completed. */
  push(chunk: string): RawItem[] {
    const text = this.rest + chunk;
    const out: RawItem[] = [];
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      this.take(text.slice(start, end), out);
      start = end + 1;
    }
    this.rest = text.slice(start);
    return out;
  }

  /** Ends the input: the last line, if it had no newline. */
  end(): RawItem[] {
    const out: RawItem[] = [];
    if (this.rest !== '') this.take(this.rest, out);
    this.rest = '';
    return out;
  }

  private take(raw: string, out: RawItem[]): void {
    this.line++;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() !== '') out.push({ line: this.line, text });
  }
}
