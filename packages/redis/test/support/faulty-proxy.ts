import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy between a Redis client and a server that can lose a reply, or cut the
 * server off, on demand: the faults a real server cannot produce when asked. Everything else
 * passes through unchanged.
 */
export class FaultyProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private server: Server | undefined;
  private armed: { marker: string; onDropped: () => void } | undefined;
  private stalled = false;
  private closing = false;
  /** Client→server chunks seen that contained each marker, for assertions. */
  readonly seen = new Map<string, number>();

  private constructor(private readonly target: { host: string; port: number }) {}

  /** Listens on a free loopback port in front of `target`. */
  static async start(target: { host: string; port: number }): Promise<FaultyProxy> {
    const proxy = new FaultyProxy(target);
    await proxy.listen();
    return proxy;
  }

  /** The port to give the client instead of the server's. */
  get port(): number {
    const address = this.server!.address();
    if (address === null || typeof address === 'string') throw new Error('proxy is not listening');
    return address.port;
  }

  /**
   * Lets the next command whose bytes contain `marker` reach the server, then swallows the
   * server's reply to it and cuts the connection — the command ran, its reply was lost.
   * Resolves once that has happened.
   */
  loseNextReply(marker: string): Promise<void> {
    return new Promise((resolve) => {
      this.armed = { marker, onDropped: resolve };
    });
  }

  /**
   * Stops forwarding: from now on the client's bytes never reach the server (the node is cut off,
   * its connections still open), until {@link resume}.
   */
  stall(): void {
    this.stalled = true;
  }

  /** Ends a stall: every stalled connection is closed (what was sent meanwhile never arrived), new ones pass. */
  resume(): void {
    this.stalled = false;
    this.cutAll();
  }

  private cutAll(): void {
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.cutAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private listen(): Promise<void> {
    this.server = createServer((client) => {
      if (this.closing) {
        client.destroy();
        return;
      }
      const upstream = createConnection(this.target);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const drop = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      // The reply to lose: set when the marked command is forwarded, used by the next server bytes.
      let losing: (() => void) | undefined;
      client.on('data', (chunk: Buffer) => {
        if (this.stalled) return;
        const text = chunk.toString('latin1');
        for (const marker of this.seen.keys()) if (text.includes(marker)) this.seen.set(marker, this.seen.get(marker)! + 1);
        const armed = this.armed;
        if (armed !== undefined && text.includes(armed.marker)) {
          this.armed = undefined;
          losing = armed.onDropped;
        }
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (losing === undefined) {
          client.write(chunk);
          return;
        }
        const dropped = losing;
        losing = undefined;
        drop();
        dropped();
      });
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
  }

  /** Starts counting the client→server chunks that contain `marker`. */
  count(marker: string): void {
    this.seen.set(marker, 0);
  }
}
