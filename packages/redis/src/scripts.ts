import { createHash } from 'node:crypto';

/** A Lua script and the SHA1 Redis knows it by. */
export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

// The claim rules of the store contract (core's claim-rules.ts), in Lua. Times are compared
// with the `now` the caller passes from the store's clock, never with the server's TTL alone:
// a record past its `expiresAt` counts as absent even while Redis still holds it.
//
// Records are hashes whose fields are the IdempotencyRecord's own fields, as strings.

// Shared by the scripts. Redis does not roll a script back when it fails halfway, so a batch
// first checks that every key it will touch is ours (an idemkit hash, a numeric counter) and only
// then writes: a foreign value under the prefix fails the whole call with nothing changed.
const HELPERS = `
local function fail(message)
  error({err = 'IDEMKIT_FOREIGN_VALUE ' .. message})
end
local function check_keys()
  for i = 1, #KEYS, 2 do
    local kind = redis.call('TYPE', KEYS[i])['ok']
    if kind == 'hash' then
      local f = redis.call('HMGET', KEYS[i], 'status', 'fencingToken', 'leaseExpiresAt', 'expiresAt', 'claimedAt')
      if (f[1] ~= 'in_progress' and f[1] ~= 'completed') or not tonumber(f[2]) or not tonumber(f[3])
        or not tonumber(f[4]) or not tonumber(f[5]) then
        fail(KEYS[i] .. ' is a hash but not an idemkit record')
      end
    elseif kind ~= 'none' then
      fail(KEYS[i] .. ' holds a ' .. kind .. ', not an idemkit record')
    end
    if KEYS[i + 1] then
      local fence_kind = redis.call('TYPE', KEYS[i + 1])['ok']
      if fence_kind ~= 'none' and (fence_kind ~= 'string' or not tonumber(redis.call('GET', KEYS[i + 1]))) then
        fail(KEYS[i + 1] .. ' is not an idemkit fencing counter')
      end
    end
  end
end
local function read_record(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil, flat end
  local record = {}
  for j = 1, #flat, 2 do record[flat[j]] = flat[j + 1] end
  return record, flat
end
`;

/**
 * Claims a batch of keys, in order, atomically.
 *
 * KEYS: record₁, fence₁, record₂, fence₂, …
 * ARGV: now, tokenFloor, fenceGraceMs, then per item 7 values:
 *   leaseExpiresAt, expiresAt, ttlMs, hasFingerprint ('1'|'0'), fingerprint, windowAt ('' = none), windowMs
 * Reply per item: {1, fields of the new record} or {0, fields of the record that refused it}.
 *
 * Fencing token = max(fence counter + 1, replaced record's token + 1, tokenFloor) where
 * tokenFloor = now × 1000. The counter (a key beside the record, same hash tag) outlives the
 * record by fenceGraceMs, so release/re-claim cycles in one millisecond still move forward;
 * the clock-derived floor keeps tokens from going back once even the counter has expired.
 */
export const CLAIM = script(
  `${HELPERS}
check_keys()
local now = tonumber(ARGV[1])
local floor = tonumber(ARGV[2])
local grace = tonumber(ARGV[3])
local replies = {}
for i = 1, #KEYS / 2 do
  local record_key, fence_key = KEYS[2 * i - 1], KEYS[2 * i]
  local a = 3 + (i - 1) * 7
  local record, flat = read_record(record_key)
  local blocked = false
  local previous = 0
  if record then
    previous = tonumber(record.fencingToken) or 0
    if tonumber(record.expiresAt) > now then
      if record.status == 'in_progress' then
        blocked = tonumber(record.leaseExpiresAt) > now
      else
        local at = ARGV[a + 6]
        local outside = at ~= '' and record.windowAnchor ~= nil
          and math.abs(tonumber(at) - tonumber(record.windowAnchor)) >= tonumber(ARGV[a + 7])
        blocked = not outside
      end
    end
  end
  if blocked then
    replies[i] = {0, flat}
  else
    local counter = tonumber(redis.call('GET', fence_key) or '0')
    local token = string.format('%.0f', math.max(counter + 1, previous + 1, floor))
    local fields = {'status', 'in_progress', 'fencingToken', token,
      'leaseExpiresAt', ARGV[a + 1], 'expiresAt', ARGV[a + 2], 'claimedAt', ARGV[1]}
    if ARGV[a + 4] == '1' then
      fields[#fields + 1] = 'fingerprint'
      fields[#fields + 1] = ARGV[a + 5]
    end
    if ARGV[a + 6] ~= '' then
      fields[#fields + 1] = 'windowAnchor'
      fields[#fields + 1] = ARGV[a + 6]
    end
    redis.call('DEL', record_key)
    redis.call('HSET', record_key, unpack(fields))
    redis.call('PEXPIRE', record_key, ARGV[a + 3])
    local fence_ttl = redis.call('PTTL', fence_key)
    if fence_ttl == -1 then
      redis.call('SET', fence_key, token)
    else
      local wanted = tonumber(ARGV[a + 3]) + grace
      redis.call('SET', fence_key, token, 'PX', string.format('%.0f', math.max(fence_ttl, wanted)))
    end
    replies[i] = {1, fields}
  end
end
return replies
`,
);

/**
 * Completes a batch of claims, in order, atomically; each only while its token is current.
 *
 * KEYS: record₁, fence₁, record₂, fence₂, …
 * ARGV: now, fenceGraceMs, then per item 5 values: fencingToken, expiresAt, ttlMs, hasResult ('1'|'0'), result
 * Reply per item: {1} completed, {0} no live record, {0, fields} the live record that refused it.
 */
export const COMPLETE = script(
  `${HELPERS}
check_keys()
local now = tonumber(ARGV[1])
local grace = tonumber(ARGV[2])
local replies = {}
for i = 1, #KEYS / 2 do
  local record_key, fence_key = KEYS[2 * i - 1], KEYS[2 * i]
  local a = 2 + (i - 1) * 5
  local record, flat = read_record(record_key)
  if record == nil or tonumber(record.expiresAt) <= now then
    replies[i] = {0}
  elseif record.status ~= 'in_progress' or tonumber(record.fencingToken) ~= tonumber(ARGV[a + 1]) then
    replies[i] = {0, flat}
  else
    redis.call('HSET', record_key, 'status', 'completed', 'expiresAt', ARGV[a + 2])
    if ARGV[a + 4] == '1' then
      redis.call('HSET', record_key, 'result', ARGV[a + 5])
    else
      redis.call('HDEL', record_key, 'result')
    end
    redis.call('PEXPIRE', record_key, ARGV[a + 3])
    -- Retention restarts at completion: keep the fence counter outliving the record.
    local wanted = tonumber(ARGV[a + 3]) + grace
    local fence_ttl = redis.call('PTTL', fence_key)
    if fence_ttl == -2 then
      redis.call('SET', fence_key, record.fencingToken, 'PX', string.format('%.0f', wanted))
    elseif fence_ttl ~= -1 and fence_ttl < wanted then
      redis.call('PEXPIRE', fence_key, string.format('%.0f', wanted))
    end
    replies[i] = {1}
  end
end
return replies
`,
);

/**
 * Deletes a claim only while its token is current and it is still in progress.
 *
 * KEYS: record. ARGV: now, fencingToken. Reply: 1 released, 0 nothing changed.
 * The fence counter stays, so the next claim still gets a higher token.
 */
export const RELEASE = script(
  `${HELPERS}
check_keys()
local state = redis.call('HMGET', KEYS[1], 'status', 'fencingToken', 'expiresAt')
if state[1] ~= 'in_progress' then return 0 end
if tonumber(state[2]) ~= tonumber(ARGV[2]) or tonumber(state[3]) <= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
return 1
`,
);
