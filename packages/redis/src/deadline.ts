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

  /** @internal How many calls the queue holds: those in flight, and settled ones behind an older call still in flight. */
  get held(): number {
    return this.queue.length - this.head;
  }

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
        this.settle(pending);
        reject(error);
        return;
      }
      call.then(
        (value) => {
          this.settle(pending);
          resolve(value);
        },
        (error: unknown) => {
          this.settle(pending);
          reject(error);
        },
      );
    });
  }

  /**
   * Marks a call settled and drops the settled calls at the queue's head. Calls mostly settle in
   * the order they started, so the queue stays as short as the calls in flight: kept until the
   * timer, every call of a busy store would live through garbage collections (and slow them).
   */
  private settle(pending: Pending): void {
    pending.settled = true;
    const { queue } = this;
    while (this.head < queue.length && queue[this.head]!.settled) this.head++;
    if (this.head === queue.length) {
      queue.length = 0;
      this.head = 0;
    } else {
      this.compact();
    }
  }

  /** Drops the settled prefix once it is most of the queue, so the queue never grows without bound. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
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
    this.compact();
    this.arm();
  }
}
