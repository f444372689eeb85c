import type { LuaScript } from './scripts.js';

/** The few client calls the store makes; both ioredis `Redis` and `Cluster` have them. */
export interface ScriptClient {
  evalsha(sha: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  eval(lua: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  /** ioredis' connection state, e.g. `ready` or `reconnecting`. */
  readonly status: string;
}

/**
 * Runs a script by SHA in one round trip. When the server does not know it (first use on a new
 * server, after `SCRIPT FLUSH`, after a failover to a replica that never loaded it), it is sent
 * once with EVAL, which also loads it; on a Cluster the retry reaches the node that said NOSCRIPT,
 * because it is routed by the same keys.
 */
export function runScript(
  client: ScriptClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly string[],
): Promise<unknown> {
  // A rejection handler, not an async frame: every script call passes here.
  return client.evalsha(script.sha, keys.length, ...keys, ...args).catch((error: unknown) => {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(script.lua, keys.length, ...keys, ...args);
  });
}
