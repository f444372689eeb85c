/** An item with its event time and arrival position, the order {@link ReorderBuffer} restores. */
export interface Timed {
  /** Event time, epoch ms. */
  at: number;
  /** Arrival position: breaks ties, so equal times keep their arrival order. */
  seq: number;
}

/**
 * Puts deliveries back in event-time order, within a bounded window of arrival: it holds up to
 * `capacity` items and releases the earliest whenever it is over. A delivery that arrives more
 * than `capacity` deliveries after events later than it is released when it comes, out of
 * order, and counted in {@link late}: windows compare event times in both directions, so it is
 * still judged right, but the store's clock never goes back for it.
 */
export class ReorderBuffer<T extends Timed> {
  private readonly heap: T[] = [];
  private released = -Infinity;
  /** Items released earlier in event time than one already released. */
  late = 0;

  constructor(private readonly capacity: number) {}

  /** Takes one item; returns the item it releases, if the buffer was full. */
  push(item: T): T | undefined {
    this.heap.push(item);
    this.up(this.heap.length - 1);
    return this.heap.length > this.capacity ? this.pop() : undefined;
  }

  /** Releases everything left, earliest first. */
  *drain(): Generator<T> {
    while (this.heap.length > 0) yield this.pop();
  }

  private pop(): T {
    const top = this.heap[0]!;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    if (top.at < this.released) this.late++;
    else this.released = top.at;
    return top;
  }

  private before(a: T, b: T): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private up(index: number): void {
    const heap = this.heap;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.before(heap[index]!, heap[parent]!)) return;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  private down(index: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && this.before(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && this.before(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === index) return;
      [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
      index = smallest;
    }
  }
}
