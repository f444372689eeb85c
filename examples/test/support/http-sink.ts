// A stand-in for the examples' downstream HTTP services (the CRM, the contact history): it counts
// the POSTs it receives, so a bundled handler's side effects can be counted from outside its process.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP service that answers every POST with `{ "id": "<path>-<n>" }` and counts them. */
export interface HttpSink {
  url: string;
  /** The bodies POSTed so far, in order. */
  received: unknown[];
  close(): Promise<void>;
}

export async function httpSink(): Promise<HttpSink> {
  const received: unknown[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
      response.writeHead(201, { 'content-type': 'application/json', connection: 'close' });
      response.end(JSON.stringify({ id: `${request.url?.slice(1)}-${received.length}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
