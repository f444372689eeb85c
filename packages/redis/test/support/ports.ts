import { createServer } from 'node:net';

/** Whether nothing listens on `port` on loopback right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Loopback ports with nothing listening, each with its Cluster bus port (port + 10000) free too.
 * Random in 20000–49999 so parallel runs rarely collide; a port is only ever probed, never held.
 */
export async function findFreePorts(count: number, withBusPort = false): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count; attempt++) {
    if (attempt > 1_000) throw new Error(`could not find ${count} free loopback ports`);
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (ports.includes(port) || ports.includes(port + 10_000) || ports.includes(port - 10_000)) continue;
    if (!(await isPortFree(port))) continue;
    if (withBusPort && !(await isPortFree(port + 10_000))) continue;
    ports.push(port);
  }
  return ports;
}
