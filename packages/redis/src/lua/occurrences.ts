import { saveLua } from './common.js';

// The occurrence history of one idemkit key, and the claim rules of core's claim-rules.ts on it.
//
// A key's value is msgpack of { counter, occurrence, occurrence, … }: the last fencing token
// handed out for the key (kept after every occurrence is gone), then the live occurrences, oldest
// claim first, each { status, token, leaseExpiresAt, expiresAt, claimedAt, windowAnchor,
// fingerprint, owner, result } with false for an absent field (status 1 = in progress, 2 = completed).
// The token is stored as token − claimedAt × 1000 and both expiries as offsets from claimedAt, so
// they pack in 1–5 bytes instead of 9.
// KEYS hold each Redis key of a call once; items name them by index.

/** Defines `history(k)`, `record_of(o)` and the tables of loaded and changed histories. */
export const HISTORY_LUA = `
-- Checks each occurrence's shape and turns its stored, relative times absolute, in one pass.
local function absolute_history(value)
  for i = 2, #value do
    local o = value[i]
    if type(o) ~= 'table' or (o[1] ~= 1 and o[1] ~= 2) or type(o[2]) ~= 'number'
      or type(o[3]) ~= 'number' or type(o[4]) ~= 'number' or type(o[5]) ~= 'number' then
      return false
    end
    local claimed = o[5]
    o[2], o[3], o[4] = o[2] + claimed * 1000, o[3] + claimed, o[4] + claimed
  end
  return true
end
local histories, dirty = {}, {}
local function history(k)
  local h = histories[k]
  if h == nil then
    h = load(KEYS[k], absolute_history) or {0}
    histories[k] = h
  end
  return h
end
-- An occurrence as a reply. Anchors are the caller's event times, maybe fractional: as text,
-- since a number reply is an integer.
local function record_of(o)
  if not o then return false end
  local anchor = o[6]
  if anchor then anchor = string.format('%.17g', anchor) end
  return {o[1], o[2], o[3], o[4], o[5], anchor, o[7], o[8], o[9]}
end
`;

/** Writes every changed history, dropping the occurrences past their retention on the way. */
const FLUSH_LUA = `
for k in pairs(dirty) do
  local h = histories[k]
  local kept, last = {h[1]}, now
  for i = 2, #h do
    local o = h[i]
    if o[4] > now then
      if o[4] > last then last = o[4] end
      -- Replies were built before: the occurrence may take its stored, relative form in place.
      local claimed = o[5]
      o[2], o[3], o[4] = o[2] - claimed * 1000, o[3] - claimed, o[4] - claimed
      kept[#kept + 1] = o
    end
  end
  ${saveLua('KEYS[k]', 'kept', 'last')}
end
`;

/**
 * claim | judge. ARGV[4…]: n, then per item: identities, leaseMs, lifetimeMs, fingerprint, owner
 * ('' absent, '=' .. text present), then per identity: key index, window at, windowMs ('' = none).
 * Reply { now, per item {1, token per identity} or {0, identity, record} }; judge writes nothing.
 */
export const CLAIM_LUA = `
local write = op == 'claim'
local replies = {now}
local c = 5
for item = 1, tonumber(ARGV[4]) do
  local count, lease, lifetime = tonumber(ARGV[c]), tonumber(ARGV[c + 1]), tonumber(ARGV[c + 2])
  local fingerprint, owner = ARGV[c + 3], ARGV[c + 4]
  fingerprint = fingerprint ~= '' and string.sub(fingerprint, 2)
  owner = owner ~= '' and string.sub(owner, 2)
  c = c + 5
  local ids, completed_j, completed, running_j, running = {}, 0, nil, 0, nil
  for j = 1, count do
    local k, at, window = tonumber(ARGV[c]), tonumber(ARGV[c + 1]), tonumber(ARGV[c + 2])
    c = c + 3
    ids[j] = {k, at or false, window}
    local h = history(k)
    for i = 2, #h do
      local o = h[i]
      -- Live, and met: either side unwindowed, or closer than the window.
      if o[4] > now and (not at or not o[6] or math.abs(at - o[6]) < window) then
        if o[1] == 2 then
          if not completed then completed_j, completed = j, o end
        elseif o[3] > now and (not owner or o[8] ~= owner) then
          if not running then running_j, running = j, o end
        end
      end
    end
  end
  -- Refused: a completed occurrence before a running one, the first identity first; nothing is written.
  if completed then
    replies[item + 1] = {0, completed_j, record_of(completed)}
  elseif running then
    replies[item + 1] = {0, running_j, record_of(running)}
  else
    local reply = {1}
    for j = 1, count do
      local k, at, window = ids[j][1], ids[j][2], ids[j][3]
      local h = history(k)
      -- What the identity met no longer blocks (lapsed, or the owner's own): it is replaced.
      local kept = {0}
      for i = 2, #h do
        local o = h[i]
        if o[4] > now and at and o[6] and math.abs(at - o[6]) >= window then kept[#kept + 1] = o end
      end
      local token = math.max(h[1] + 1, token_floor)
      kept[1] = token
      kept[#kept + 1] = {1, token, now + lease, now + lifetime, now, at, fingerprint, owner, false}
      histories[k] = kept
      if write then dirty[k] = true end
      reply[j + 1] = token
    end
    replies[item + 1] = reply
  end
end
${FLUSH_LUA}
return replies
`;

/**
 * The writes on claimed occurrences, by token. ARGV[4…]:
 *   complete   n, then per item: identities, retentionMs, result, then per identity: key index, token.
 *              Reply { now, per item {1} or {0, identity, current record or nil} }.
 *   prepare    as complete, the pin (ms) in place of the retention: checks every identity and, when
 *              none is lost, keeps the held leases running for the pin. Reply per item: one state
 *              per identity, 1 held, {2, record} completed by this token, {0, record or nil} lost.
 *   extend | check  n, then per item: identities, leaseMs, then per identity: key index, token.
 *              Reply { now, per item {1} or {0, identity, record or nil} }; check writes nothing.
 *   release    n identities: key index, token. Reply { now, 1 or 0 per identity }.
 *   get        token ('' = the latest claim). Reply { now, record or nil }.
 */
export const WRITE_LUA = `
-- The live occurrence a token names (or, without one, the one claimed last).
local function find(h, token)
  for i = #h, 2, -1 do
    local o = h[i]
    if o[4] > now and (not token or o[2] == token) then return o end
  end
end
if op == 'get' then
  return {now, record_of(find(history(1), tonumber(ARGV[4])))}
end
local replies = {now}
local c = 5
for item = 1, tonumber(ARGV[4]) do
  if op == 'release' then
    local k, token = tonumber(ARGV[c]), tonumber(ARGV[c + 1])
    c = c + 2
    local h = history(k)
    replies[item + 1] = 0
    for i = 2, #h do
      local o = h[i]
      if o[2] == token and o[4] > now and o[1] == 1 then
        -- The counter stays, so the next claim still gets a higher token.
        table.remove(h, i)
        dirty[k] = true
        replies[item + 1] = 1
        break
      end
    end
  else
    local count, duration = tonumber(ARGV[c]), tonumber(ARGV[c + 1])
    local completing = op == 'complete' or op == 'prepare'
    local result
    if completing then
      result = ARGV[c + 2] ~= '' and string.sub(ARGV[c + 2], 2)
      c = c + 3
    else
      c = c + 2
    end
    local held, states, lost = {}, {}, nil
    for j = 1, count do
      local k, token = tonumber(ARGV[c]), tonumber(ARGV[c + 1])
      c = c + 2
      local h = history(k)
      local o = find(h, token)
      if o and o[1] == 1 and (completing or o[3] > now) then
        held[#held + 1] = {k, o}
        states[j] = 1
      elseif o and op == 'prepare' then
        -- Completed with this very token: an earlier attempt of this completion landed.
        states[j] = {2, record_of(o)}
      else
        -- A completion names the key's latest occurrence when the token's is gone; an extension does not.
        local current = record_of(o or (completing and find(h)))
        states[j] = {0, current}
        if not lost then lost = {0, j, current} end
      end
    end
    if op == 'prepare' then
      replies[item + 1] = states
    else
      replies[item + 1] = lost or {1}
    end
    if not lost and op ~= 'check' then
      for _, pair in ipairs(held) do
        local o = pair[2]
        if op == 'complete' then
          o[1], o[4], o[9] = 2, now + duration, result
        elseif op == 'prepare' then
          o[3] = math.max(o[3], now + duration)
          o[4] = math.max(o[4], o[3])
        else
          o[3] = now + duration
          o[4] = math.max(o[4], o[3])
        end
        dirty[pair[1]] = true
      end
    end
  end
end
${FLUSH_LUA}
return replies
`;
