/**
 * The keys a candidate's in-memory store holds occurrences of, oldest claim first, in a ring of
 * `capacity` (the store's `maxEntries`): it tells when retention has passed for a key, so the
 * store can be asked to forget it, and when the store must have evicted a live one to make room.
 *
 * `MemoryStore` drops expired occurrences only when it reads their key or runs out of room, so
 * without this its memory would grow to `maxEntries` whatever the retention.
 */
export class ClaimLog {
  private readonly keys: (string | undefined)[];
  private readonly times: Float64Array;
  private head = 0;
  private length = 0;

  constructor(
    private readonly capacity: number,
    private readonly retentionMs: number,
  ) {
    this.keys = new Array<string | undefined>(capacity);
    this.times = new Float64Array(capacity);
  }

  /**
   * Notes a claim of `key` at `now`. Returns true when the log was full of occurrences still
   * within retention: the store, holding as many, had to evict a live one for this claim.
   */
  push(key: string, now: number): boolean {
    let evictedLive = false;
    if (this.length === this.capacity) {
      evictedLive = this.times[this.head]! + this.retentionMs > now;
      this.head = (this.head + 1) % this.capacity;
      this.length--;
    }
    const tail = (this.head + this.length) % this.capacity;
    this.keys[tail] = key;
    this.times[tail] = now;
    this.length++;
    return evictedLive;
  }

  /** Hands each key whose claim is past retention at `now` to `forget`, oldest first, and drops it. */
  sweep(now: number, forget: (key: string) => void): void {
    while (this.length > 0 && this.times[this.head]! + this.retentionMs <= now) {
      const key = this.keys[this.head]!;
      this.keys[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.length--;
      forget(key);
    }
  }
}
