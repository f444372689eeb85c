// Every round trip of a store must fail within `operationTimeoutMs`, even on a client stuck in
// ioredis' offline queue. A timer per call (set, then cleared) is a good part of what a call costs
// in process, so the calls of one store share one timer instead: all have the same limit, so
// their deadlines come in the order they started, and a queue's head is always the next to lapse.

interface Pending {
  deadline: number;
  settled: boolean;
  reject(error: Error): void;
}

/** The round trips of one store, each rejected with a `TimeoutError` once it has run `timeoutMs`. */
export class RoundTripDeadlines {
  private readonly queue: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    /** Says what the client was doing, for the timeout's message. */
    private readonly describeClient: () => string,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Runs one round trip under the deadline. Past it, the call rejects while the command may still
   * be queued in ioredis; it is not cancelled, so a late claim can still land — its lease then
   * expires like a crashed handler's (or its owner's retry takes it over).
   */
  run<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { deadline: this.now() + this.timeoutMs, settled: false, reject };
      this.queue.push(pending);
      this.arm();
      let call: Promise<T>;
      try {
        call = work();
      } catch (error) {
        pending.settled = true;
        reject(error);
        return;
      }
      call.then(
        (value) => {
          pending.settled = true;
          resolve(value);
        },
        (error: unknown) => {
          pending.settled = true;
          reject(error);
        },
      );
    });
  }

  /** Arms the shared timer for the queue's head, unless it is armed already. */
  private arm(): void {
    if (this.timer !== undefined) return;
    const next = this.queue[this.head];
    if (next === undefined) return;
    this.timer = setTimeout(() => this.lapse(), Math.max(0, next.deadline - this.now()));
    // The calls themselves (a socket, ioredis' reconnection) keep a process alive while they wait;
    // the timer must not keep it alive once they are done.
    this.timer.unref();
  }

  /** Rejects every call past its deadline, drops the settled ones, and re-arms for the next. */
  private lapse(): void {
    this.timer = undefined;
    const now = this.now();
    while (this.head < this.queue.length) {
      const pending = this.queue[this.head]!;
      if (!pending.settled) {
        if (pending.deadline > now) break;
        pending.settled = true;
        const cause = new Error(`no reply within ${this.timeoutMs} ms (${this.describeClient()})`);
        cause.name = 'TimeoutError';
        pending.reject(cause);
      }
      this.head++;
    }
    // Compact once the settled prefix is most of the queue, so it never grows without bound.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.arm();
  }
}
