// The part every operation of the store script shares: the clock, the argument cursor, reading a
// value (and refusing one that is not ours), and writing it back with its server-side expiry.
//
// ARGV[1] is the operation, ARGV[2] the store's time in epoch ms ('' = the server's own, TIME),
// ARGV[3] how long a key outlives its last record on the server (fenceGraceMs); the operation's
// own arguments follow and are read in order with the next_* helpers.
//
// Every write is deferred to the end of the script (flush): Redis does not roll a script back,
// so a foreign value met halfway through a batch must fail the call with nothing written.
export const COMMON_LUA = `
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

local cursor = 4
local function next_arg()
  local value = ARGV[cursor]
  cursor = cursor + 1
  return value
end
local function next_number()
  return tonumber(next_arg())
end
-- Optional numbers are '' when absent.
local function next_optional_number()
  local value = next_arg()
  if value == '' then return false end
  return tonumber(value)
end
-- Optional text is '' when absent and '=' .. text when present (so an empty text is '=').
local function next_text()
  local value = next_arg()
  if value == '' then return false end
  return string.sub(value, 2)
end

-- The key is JSON-quoted so the client can name it exactly, whatever characters it holds.
local function foreign(key, why)
  error({err = 'IDEMKIT_FOREIGN_VALUE ' .. cjson.encode(key) .. ' ' .. why})
end

-- A key's decoded value, or nil when absent. Costs one GET: a foreign value is found when it fails
-- to decode (or GET answers WRONGTYPE), never by extra commands on the way.
local function load(key, valid)
  local raw = redis.pcall('GET', key)
  if type(raw) == 'table' and raw.err then
    foreign(key, 'holds a ' .. redis.call('TYPE', key)['ok'] .. ', not an idemkit value')
  end
  if not raw then return nil end
  local ok, value = pcall(cmsgpack.unpack, raw)
  if not ok or type(value) ~= 'table' or type(value[1]) ~= 'number' or not valid(value) then
    foreign(key, 'holds a string that is not an idemkit value')
  end
  return value
end

-- Writes a value that must live until expires_at (store time), plus the grace that keeps its
-- fencing counter after the last record is gone.
local function save(key, value, expires_at)
  local ttl = math.max(expires_at - now, 0) + grace
  redis.call('SET', key, cmsgpack.pack(value), 'PX', string.format('%.0f', math.max(ttl, 1)))
end
`;
