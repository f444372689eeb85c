import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy whose connections can all be cut at once: DynamoDB has no `CLIENT KILL`,
 * so the harness puts this between the workers and DynamoDB Local and resets the sockets instead.
 * It can also lose a reply: forward the next request to the server (which applies it), drop what
 * the server answers, and cut that connection, so the client retries a request that took effect.
 */
export class CuttableProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private server: Server | undefined;
  /** Armed by {@link loseNextReply}: called once the reply is dropped. */
  private onLost: (() => void) | undefined;
  /** Replies still to forward before the one to drop. */
  private skip = 0;

  private constructor(private readonly upstreamAddress: { host: string; port: number }) {}

  /** Listens on a free loopback port in front of `targetUrl` (e.g. http://127.0.0.1:8000). */
  static async start(targetUrl: string, defaultPort?: number): Promise<CuttableProxy> {
    const url = new URL(targetUrl);
    const proxy = new CuttableProxy({ host: url.hostname, port: Number(url.port || defaultPort) });
    await proxy.listen();
    return proxy;
  }

  /** The proxy's URL, to give the clients instead of the target's. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The loopback port the proxy listens on. */
  get port(): number {
    const address = this.server!.address();
    if (address === null || typeof address === 'string') throw new Error('proxy is not listening');
    return address.port;
  }

  /** `url` (redis://…, postgres://…) with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** Resets every open connection (both sides); returns how many client connections were cut. */
  cutAll(): number {
    const cut = this.pairs.size;
    for (const [client, upstream] of this.pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.pairs.clear();
    return cut;
  }

  /**
   * Loses a reply: forwards `skipReplies` replies (to a batch's first requests, say), then drops
   * the next one on whichever connection it comes: its request reached the server, the reply
   * never reaches the client, and the connection is reset. `onLost` runs when the reply has been
   * dropped. Replaces an armed one. (Connections are idle between requests, so what the server
   * sends while armed answers a request sent while armed.)
   */
  loseNextReply(onLost: () => void, skipReplies = 0): void {
    this.onLost = onLost;
    this.skip = skipReplies;
  }

  /** Disarms {@link loseNextReply} if it has not fired. */
  disarm(): void {
    this.onLost = undefined;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private listen(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = createConnection(this.upstreamAddress);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const drop = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.on('data', (chunk: Buffer) => upstream.write(chunk));
      upstream.on('data', (chunk: Buffer) => {
        if (this.onLost !== undefined && this.skip-- <= 0) {
          const lost = this.onLost;
          this.disarm();
          client.resetAndDestroy();
          upstream.resetAndDestroy();
          lost();
          return;
        }
        client.write(chunk);
      });
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
  }
}
