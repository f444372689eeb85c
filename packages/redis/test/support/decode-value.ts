import type { Redis } from 'ioredis';

// Reads a store value back as the script holds it: msgpack decoded on the server, every number as
// exact text (a script's number reply is an integer, cjson rounds to 14 digits), false as null.
const DECODE = `
local function plain(value)
  if type(value) == 'table' then
    local out = {}
    for i = 1, #value do out[i] = plain(value[i]) end
    return out
  end
  if type(value) == 'number' then return string.format('%.17g', value) end
  if value == false then return 'false' end
  return value
end
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
return plain(cmsgpack.unpack(raw))
`;

/** A store value decoded, numbers as text and absent fields as `'false'`; null when the key is absent. */
export async function decodeValue(admin: Redis, redisKey: string): Promise<unknown> {
  return admin.eval(DECODE, 1, redisKey);
}
