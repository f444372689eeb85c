// What every store script shares: the clock, reading a value (and refusing one that is not ours),
// and writing it back with its server-side expiry.
//
// ARGV[1] is the operation, ARGV[2] the store's time in epoch ms ('' = the server's own, TIME),
// ARGV[3] how long a key outlives its last record on the server (fenceGraceMs); the operation's
// own arguments follow.
//
// Every write is deferred to the end of a script: Redis does not roll a script back, so a foreign
// value met halfway through a batch must fail the call with nothing written.
//
// The scripts define few functions, each taking what it needs as arguments: Lua 5.1 makes every
// closure look its upvalues up one by one, and a script runs all its definitions on every call.

/** Sets `op`, `now`, `grace` and `token_floor`. */
export const CLOCK_LUA = `
local op = ARGV[1]
local now
if ARGV[2] == '' then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
else
  now = tonumber(ARGV[2])
end
local grace = tonumber(ARGV[3])
-- Fencing tokens never go below now x 1000: they keep increasing once a key has expired.
local token_floor = now * 1000
`;

/**
 * Defines `load(key, valid)`: a key's decoded value, or nil when absent, in one GET. A foreign
 * value is found when it fails to decode (or GET answers WRONGTYPE), never by extra commands on
 * the way; the key is JSON-quoted in the error so the client can name it exactly.
 */
export const LOAD_LUA = `
local function load(key, valid)
  local raw = redis.pcall('GET', key)
  local why
  if type(raw) == 'table' and raw.err then
    why = 'holds a ' .. redis.call('TYPE', key)['ok'] .. ', not an idemkit value'
  elseif not raw then
    return nil
  else
    local ok, value = pcall(cmsgpack.unpack, raw)
    if ok and type(value) == 'table' and type(value[1]) == 'number' and valid(value) then return value end
    why = 'holds a string that is not an idemkit value'
  end
  error({err = 'IDEMKIT_FOREIGN_VALUE ' .. cjson.encode(key) .. ' ' .. why})
end
`;

/** Writes a value that must live until `expires_at` (store time), plus the grace that keeps its fencing counter. */
export function saveLua(key: string, value: string, expiresAt: string): string {
  return `redis.call('SET', ${key}, cmsgpack.pack(${value}), 'PX', string.format('%.0f', math.max(math.max(${expiresAt} - now, 0) + grace, 1)))`;
}
