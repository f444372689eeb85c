// The ordering guard's records (core's version-rules.ts): one key per entity, msgpack of
// { counter, expiresAt, applied, pending } with pending = { version, token, leaseExpiresAt,
// claimedAt, owner } or false, applied false until a version completes.
//
// Operations on KEYS[1]:
//   vclaim     version, leaseMs, retentionMs, owner. Reply { now, verdict, record }.
//   vcomplete  token, retentionMs. Reply { now, 1 or 0 }.
//   vrelease   token. Reply { now, 1 or 0 }.
//   vget       Reply { now, record or nil }.
// A record reply is { counter, expiresAt, applied, pending version, token, leaseExpiresAt, claimedAt, owner }.
export const VERSIONS_LUA = `
local function valid_version(v)
  local pending = v[4]
  return type(v[2]) == 'number' and (v[3] == false or type(v[3]) == 'string')
    and (pending == false or (type(pending) == 'table' and type(pending[1]) == 'string'
      and type(pending[2]) == 'number' and type(pending[3]) == 'number' and type(pending[4]) == 'number'))
end

-- Byte order, as encodeVersion promises: Lua's own < uses the server's collation locale.
local function before(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local function version_record(v)
  local p = v[4]
  if not p then return {v[1], v[2], v[3]} end
  return {v[1], v[2], v[3], p[1], p[2], p[3], p[4], p[5]}
end

local function version_op()
  local v = load(KEYS[1], valid_version)
  local live = v and v[2] > now
  if op == 'vclaim' then
    local version, lease, retention, owner = next_arg(), next_number(), next_number(), next_text()
    if live then
      local applied, pending = v[3], v[4]
      if applied and before(version, applied) then return {now, 'stale', version_record(v)} end
      if applied == version then return {now, 'duplicate', version_record(v)} end
      if pending and pending[3] > now and (not owner or pending[5] ~= owner) then
        return {now, 'in_progress', version_record(v)}
      end
    end
    local token = math.max((v and v[1] or 0) + 1, token_floor)
    local expires = math.max(live and v[2] or 0, now + math.max(retention, lease))
    local record = {token, expires, live and v[3] or false, {version, token, now + lease, now, owner}}
    save(KEYS[1], record, expires)
    return {now, 'acquired', version_record(record)}
  end
  if op == 'vget' then
    if live then return {now, version_record(v)} end
    return {now, false}
  end
  local token = next_number()
  if not live or not v[4] or v[4][2] ~= token then return {now, 0} end
  if op == 'vcomplete' then
    v[3], v[2] = v[4][1], now + next_number()
  end
  v[4] = false
  save(KEYS[1], v, v[2])
  return {now, 1}
end
`;
