import { createHash } from 'node:crypto';
import { COMMON_LUA } from './lua/common.js';
import { OCCURRENCES_LUA } from './lua/occurrences.js';
import { VERSIONS_LUA } from './lua/versions.js';

/** A Lua script and the SHA1 Redis knows it by. */
export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** The operations of the store script (ARGV[1]); see lua/occurrences.ts and lua/versions.ts for each one's arguments. */
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

/**
 * Every store operation is this one script, so a node loads one script once (one `NOSCRIPT`
 * fallback after a flush or failover, not one per operation). Each call runs atomically on one
 * node, and all its keys share one Cluster slot.
 */
export const STORE_SCRIPT = script(`${COMMON_LUA}
${OCCURRENCES_LUA}
${VERSIONS_LUA}
if string.sub(op, 1, 1) == 'v' then return version_op() end
local reply = occurrence_op()
if reply == nil then error({err = 'IDEMKIT_UNKNOWN_OPERATION ' .. op}) end
return reply
`);
