import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy whose connections can all be cut at once: DynamoDB has no `CLIENT KILL`,
 * so the harness puts this between the workers and DynamoDB Local and resets the sockets instead.
 */
export class CuttableProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private server: Server | undefined;

  private constructor(private readonly target: { host: string; port: number }) {}

  /** Listens on a free loopback port in front of `targetUrl` (e.g. http://127.0.0.1:8000). */
  static async start(targetUrl: string): Promise<CuttableProxy> {
    const url = new URL(targetUrl);
    const proxy = new CuttableProxy({ host: url.hostname, port: Number(url.port) });
    await proxy.listen();
    return proxy;
  }

  /** The proxy's URL, to give the clients instead of the target's. */
  get url(): string {
    const address = this.server!.address();
    if (address === null || typeof address === 'string') throw new Error('proxy is not listening');
    return `http://127.0.0.1:${address.port}`;
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

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private listen(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = createConnection(this.target);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const drop = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
  }
}
