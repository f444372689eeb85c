interface Entry<V> {
  value: V;
  writtenAt: number;
}

// Expired entries are swept every this many writes (and on every read of one), not on each write:
// walking the front of the map each time would cost more than the memory it frees.
const SWEEP_EVERY = 256;

/**
 * A map that forgets like the store it mirrors: an entry lives `horizonMs` of event time after
 * it was last written, and when more than `maxEntries` are held the least recently written goes.
 *
 * Writes happen at the analysis clock, which never moves backwards, so Map order (last-written
 * last) is also expiry order: sweeping only ever looks at the front.
 */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private writes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly horizonMs: number,
  ) {}

  /** How many entries are held (expired ones may linger until the next sweep). */
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

  /** Writes `value` at `now`, then drops what overflows (and, now and then, what expired). */
  set(key: K, value: V, now: number): void {
    let entry = this.entries.get(key);
    if (entry === undefined) entry = { value, writtenAt: now };
    else {
      this.entries.delete(key);
      entry.value = value;
      entry.writtenAt = now;
    }
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries || ++this.writes % SWEEP_EVERY === 0) this.sweep(now);
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && entry.writtenAt + this.horizonMs > now) return;
      this.entries.delete(key);
    }
  }
}
