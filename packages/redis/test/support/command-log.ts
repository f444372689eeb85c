import type { RedisClient } from '../../src/index.js';

/** The commands one client sent, as `[name, ...args]`, counted where they leave the client. */
export interface CommandLog {
  /** Runs `action` and returns the commands the client sent meanwhile. */
  during(action: () => Promise<unknown>): Promise<string[][]>;
}

interface SentCommand {
  name: string;
  args: unknown[];
}

/**
 * Records every command a client sends, by wrapping its `sendCommand` — the one door every ioredis
 * command (and a `Cluster`'s, before it is routed to a node) goes through. Nothing runs on the
 * server: unlike `MONITOR` on a shared Redis, no other client can disturb the count.
 */
export function recordCommands(client: RedisClient): CommandLog {
  const sent: string[][] = [];
  const original = client.sendCommand.bind(client) as (command: SentCommand, ...rest: unknown[]) => unknown;
  (client as unknown as { sendCommand: typeof original }).sendCommand = (command, ...rest) => {
    sent.push([command.name, ...command.args.map(String)]);
    return original(command, ...rest);
  };
  return {
    async during(action) {
      const start = sent.length;
      await action();
      return sent.slice(start);
    },
  };
}

/** The command names of a log, lower-cased: `['evalsha']`. */
export function names(commands: readonly string[][]): string[] {
  return commands.map((args) => (args[0] ?? '').toLowerCase());
}
