import { saveLua } from './common.js';

// The ordering guard's records (core's version-rules.ts): one key per entity, msgpack of
// { counter, expiresAt, applied, pending } with pending = { version, token, leaseExpiresAt,
// claimedAt, owner } or false, applied false until a version completes.
//
// Operations on KEYS[1], ARGV[4…]:
//   vclaim     version, leaseMs, retentionMs, owner. Reply { now, verdict, record }.
//   vcomplete  token, retentionMs. Reply { now, 1 or 0 }.
//   vrelease   token. Reply { now, 1 or 0 }.
//   vget       Reply { now, record or nil }.
// A record reply is { counter, expiresAt, applied, pending version, token, leaseExpiresAt, claimedAt, owner }.
export const VERSIONS_LUA = `
local function valid_version(v)
  local p = v[4]
  return type(v[2]) == 'number' and (v[3] == false or type(v[3]) == 'string')
    and (p == false or (type(p) == 'table' and type(p[1]) == 'string' and type(p[2]) == 'number'
      and type(p[3]) == 'number' and type(p[4]) == 'number'))
end
local function record_of(v)
  local p = v[4]
  if not p then return {v[1], v[2], v[3]} end
  return {v[1], v[2], v[3], p[1], p[2], p[3], p[4], p[5]}
end
local v = load(KEYS[1], valid_version)
local live = v and v[2] > now
if op == 'vget' then
  return {now, live and record_of(v)}
end
if op == 'vclaim' then
  local version, lease, retention, owner = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
  owner = owner ~= '' and string.sub(owner, 2)
  if live then
    local applied, pending = v[3], v[4]
    if applied then
      if applied == version then return {now, 'duplicate', record_of(v)} end
      -- Byte order, as encodeVersion promises: Lua's own < follows the server's collation locale.
      local older = #version < #applied
      for i = 1, math.min(#version, #applied) do
        local x, y = string.byte(version, i), string.byte(applied, i)
        if x ~= y then
          older = x < y
          break
        end
      end
      if older then return {now, 'stale', record_of(v)} end
    end
    if pending and pending[3] > now and (not owner or pending[5] ~= owner) then
      return {now, 'in_progress', record_of(v)}
    end
  end
  local token = math.max((v and v[1] or 0) + 1, token_floor)
  local expires = math.max(live and v[2] or 0, now + math.max(retention, lease))
  local record = {token, expires, live and v[3] or false, {version, token, now + lease, now, owner}}
  ${saveLua('KEYS[1]', 'record', 'expires')}
  return {now, 'acquired', record_of(record)}
end
local token = tonumber(ARGV[4])
if not live or not v[4] or v[4][2] ~= token then return {now, 0} end
if op == 'vcomplete' then
  v[3], v[2] = v[4][1], now + tonumber(ARGV[5])
end
v[4] = false
${saveLua('KEYS[1]', 'v', 'v[2]')}
return {now, 1}
`;
