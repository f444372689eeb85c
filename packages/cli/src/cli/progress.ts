import type { Progress } from '../analysis/types.js';
import { formatBytes, formatCount } from '../report/shared.js';

/** Where the progress bar draws: a terminal stream. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const PHASES: Record<Progress['phase'], string> = { gaps: 'measuring gaps', run: 'running strategies' };
// Redraws at most this often: a terminal cannot show more, and each write costs.
const REDRAW_MS = 100;
const BAR_WIDTH = 24;

/**
 * A one-line progress bar on a terminal: phase, share of bytes read, events, events/s and bytes
 * read. It redraws in place at most every 100 ms and clears itself when done.
 */
export class ProgressBar {
  private lastDraw = -Infinity;
  private phase: Progress['phase'] | undefined;
  private phaseStart = 0;
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes the latest progress; draws it when the last draw is old enough or the phase changed. */
  update(progress: Progress): void {
    const now = this.now();
    if (progress.phase !== this.phase) {
      this.phase = progress.phase;
      this.phaseStart = now;
    } else if (now - this.lastDraw < REDRAW_MS) {
      return;
    }
    this.lastDraw = now;
    this.stream.write(`\r${this.line(progress, now)}\x1b[K`);
    this.drawn = true;
  }

  /** Clears the bar. */
  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }

  private line(progress: Progress, now: number): string {
    const share = progress.totalBytes === 0 ? 0 : Math.min(1, progress.bytesRead / progress.totalBytes);
    const filled = Math.round(share * BAR_WIDTH);
    const seconds = Math.max((now - this.phaseStart) / 1000, 1e-3);
    const line =
      `${PHASES[progress.phase]} ${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} ${Math.floor(share * 100)}% · ` +
      `${formatCount(progress.events)} events · ${formatCount(Math.round(progress.events / seconds))} events/s · ` +
      `${formatBytes(progress.bytesRead)} / ${formatBytes(progress.totalBytes)}`;
    const columns = this.stream.columns ?? 100;
    return line.length < columns ? line : line.slice(0, Math.max(0, columns - 1));
  }
}
