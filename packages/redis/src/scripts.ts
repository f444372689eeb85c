import { createHash } from 'node:crypto';
import { CLOCK_LUA, LOAD_LUA } from './lua/common.js';
import { CLAIM_LUA, HISTORY_LUA, WRITE_LUA } from './lua/occurrences.js';
import { VERSIONS_LUA } from './lua/versions.js';

/** A Lua script and the SHA1 Redis knows it by. */
export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** The operations of the store scripts (ARGV[1]); see lua/occurrences.ts and lua/versions.ts for each one's arguments. */
export type StoreOp =
  | 'claim'
  | 'judge'
  | 'complete'
  | 'prepare'
  | 'extend'
  | 'check'
  | 'release'
  | 'get'
  | 'vclaim'
  | 'vcomplete'
  | 'vrelease'
  | 'vget';

/** Claims (and read-only judgements) of occurrences. Each call runs atomically on one node, its keys in one slot. */
export const CLAIM_SCRIPT = script(`${CLOCK_LUA}${LOAD_LUA}${HISTORY_LUA}${CLAIM_LUA}`);

/** Completions, preparations, lease extensions, releases and reads of claimed occurrences. */
export const WRITE_SCRIPT = script(`${CLOCK_LUA}${LOAD_LUA}${HISTORY_LUA}${WRITE_LUA}`);

/** The ordering guard's operations on one entity. */
export const VERSION_SCRIPT = script(`${CLOCK_LUA}${LOAD_LUA}${VERSIONS_LUA}`);

/**
 * The fast path's completion (fast-path.ts): KEYS[1] becomes ARGV[2], expiring in ARGV[3] ms, if
 * it still holds exactly ARGV[1]. Reply 1 when swapped, 0 when the key holds anything else (another
 * type included: the full script then names the foreign value).
 */
export const COMPARE_AND_SET_SCRIPT = script(
  `if redis.pcall('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`,
);

/**
 * Undoes a batch's native claim (fast-path.ts): deletes KEYS[1] if it still holds exactly ARGV[1],
 * the value the claim wrote on a key that was absent. Reply 1 when deleted, 0 otherwise.
 */
export const COMPARE_AND_DELETE_SCRIPT = script(`if redis.pcall('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end return 0`);

/** Every script the store runs, e.g. to load them all on a node. */
export const STORE_SCRIPTS: readonly LuaScript[] = [CLAIM_SCRIPT, WRITE_SCRIPT, VERSION_SCRIPT, COMPARE_AND_SET_SCRIPT, COMPARE_AND_DELETE_SCRIPT];

/** The script that runs an operation. */
export function scriptFor(op: StoreOp): LuaScript {
  if (op === 'claim' || op === 'judge') return CLAIM_SCRIPT;
  if (op.startsWith('v')) return VERSION_SCRIPT;
  return WRITE_SCRIPT;
}
