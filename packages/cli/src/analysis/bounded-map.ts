/**
 * A map that forgets like the store it mirrors: an entry lives `horizonMs` of event time after
 * it was last written, and when more than `maxEntries` are held the least recently written goes.
 *
 * Writes happen at the analysis clock, which never moves backwards, so Map order (last-written
 * last) is also expiry order: pruning only ever looks at the front.
 */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, { value: V; writtenAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly horizonMs: number,
  ) {}

  /** How many entries are held. */
  get size(): number {
    return this.entries.size;
  }

  /** The live value of `key` at `now`, if any. */
  get(key: K, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.writtenAt + this.horizonMs > now) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  /** Writes `value` at `now`, then drops what expired or overflows. */
  set(key: K, value: V, now: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, writtenAt: now });
    this.prune(now);
  }

  private prune(now: number): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && entry.writtenAt + this.horizonMs > now) return;
      this.entries.delete(key);
    }
  }
}
