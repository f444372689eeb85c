import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** What MONITOR saw of the commands clients sent (commands run inside scripts are left out). */
export interface CommandLog {
  /**
   * Runs `action` and returns the client commands the servers received meanwhile that mention
   * any of `needles`. A sentinel ECHO on every server before and after marks the boundaries, so
   * nothing is waited for by time.
   */
  during(needles: readonly string[], action: () => Promise<unknown>): Promise<string[][]>;
  stop(): Promise<void>;
}

/** Starts MONITOR on each server (one admin connection per server; the caller closes them). */
export async function monitorServers(servers: readonly Redis[]): Promise<CommandLog> {
  const monitors = await Promise.all(servers.map((server) => server.monitor()));
  const seen: string[][] = [];
  const sentinels = new Map<string, () => void>();
  for (const monitor of monitors) {
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source === 'lua') return;
      const arrived = args[0]?.toLowerCase() === 'echo' ? sentinels.get(args[1] ?? '') : undefined;
      if (arrived !== undefined) arrived();
      else seen.push(args);
    });
  }
  // Every command a server received before the ECHO shows in its MONITOR stream before the ECHO.
  const settle = () =>
    Promise.all(
      servers.map((server) => {
        const token = `sentinel-${randomUUID()}`;
        const arrived = new Promise<void>((resolve) => sentinels.set(token, resolve));
        return server.echo(token).then(() => arrived);
      }),
    );
  return {
    async during(needles, action) {
      await settle();
      const start = seen.length;
      await action();
      await settle();
      return seen.slice(start).filter((args) => args.some((arg) => needles.some((needle) => arg.includes(needle))));
    },
    async stop() {
      monitors.forEach((monitor) => monitor.disconnect());
    },
  };
}

/** The command names of a log, lower-cased: `['evalsha']`. */
export function names(commands: readonly string[][]): string[] {
  return commands.map((args) => (args[0] ?? '').toLowerCase());
}
