// The occurrence history of one idemkit key, and the claim rules of core's claim-rules.ts on it.
//
// A key's value is msgpack of { counter, occurrence, occurrence, … }: the last fencing token
// handed out for the key (kept after every occurrence is gone), then the live occurrences, oldest
// claim first, each { status, token, leaseExpiresAt, expiresAt, claimedAt, windowAnchor,
// fingerprint, owner, result } with false for an absent field (status 1 = in progress, 2 = completed).
//
// Operations (ARGV[4…], per item in order; KEYS hold each Redis key once, items name them by index):
//   claim | judge   n, then per item: identities, leaseMs, lifetimeMs, fingerprint, owner,
//                   then per identity: key index, window at, windowMs.
//                   Reply { now, per item {1, token…} or {0, identity, record} }; judge writes nothing.
//   complete        n, then per item: identities, retentionMs, result, then per identity: key index, token.
//                   Reply { now, per item {1} or {0, identity, current record or nil} }.
//   prepare         as complete, the pin (ms) in place of the retention: checks every identity and,
//                   when none is lost, keeps the held leases running for the pin. Reply per item:
//                   one state per identity, 1 held, {2, record} completed by this token, {0, record or nil} lost.
//   extend | check  n, then per item: identities, leaseMs, then per identity: key index, token.
//                   Reply { now, per item {1} or {0, identity, record or nil} }; check writes nothing.
//   release         n identities: key index, token. Reply { now, 1 or 0 per identity }.
//   get             token ('' = the latest claim). Reply { now, record or nil }.
export const OCCURRENCES_LUA = `
local STATUS, TOKEN, LEASE, EXPIRES, CLAIMED, ANCHOR, FINGERPRINT, OWNER, RESULT = 1, 2, 3, 4, 5, 6, 7, 8, 9
local IN_PROGRESS, COMPLETED = 1, 2

local function valid_history(value)
  for i = 2, #value do
    local o = value[i]
    if type(o) ~= 'table' or (o[STATUS] ~= IN_PROGRESS and o[STATUS] ~= COMPLETED) or type(o[TOKEN]) ~= 'number'
      or type(o[LEASE]) ~= 'number' or type(o[EXPIRES]) ~= 'number' or type(o[CLAIMED]) ~= 'number' then
      return false
    end
  end
  return true
end

local histories, dirty = {}, {}
local function history(k)
  local h = histories[k]
  if h == nil then
    h = load(KEYS[k], valid_history) or {0}
    histories[k] = h
  end
  return h
end

-- Writes every changed history, dropping the occurrences past their retention on the way.
local function flush()
  for k in pairs(dirty) do
    local h = histories[k]
    local kept, last = {h[1]}, now
    for i = 2, #h do
      local o = h[i]
      if o[EXPIRES] > now then
        kept[#kept + 1] = o
        if o[EXPIRES] > last then last = o[EXPIRES] end
      end
    end
    save(KEYS[k], kept, last)
  end
end

local function record_of(o)
  if not o then return false end
  local anchor = o[ANCHOR]
  -- Anchors are the caller's event times, maybe fractional: as text, since a number reply is an integer.
  if anchor then anchor = string.format('%.17g', anchor) end
  return {o[STATUS], o[TOKEN], o[LEASE], o[EXPIRES], o[CLAIMED], anchor, o[FINGERPRINT], o[OWNER], o[RESULT]}
end

local function meets(o, at, window)
  return not at or not o[ANCHOR] or math.abs(at - o[ANCHOR]) < window
end

-- The live occurrence a token names, if any.
local function find(h, token)
  for i = 2, #h do
    local o = h[i]
    if o[TOKEN] == token and o[EXPIRES] > now then return o end
  end
end

-- The live occurrence claimed last.
local function latest(h)
  for i = #h, 2, -1 do
    if h[i][EXPIRES] > now then return h[i] end
  end
end

local function claim_item(write)
  local count, lease, lifetime = next_number(), next_number(), next_number()
  local fingerprint, owner = next_text(), next_text()
  local ids, completed, running = {}, nil, nil
  for j = 1, count do
    local id = {k = next_number(), at = next_optional_number(), window = next_optional_number()}
    ids[j] = id
    local h = history(id.k)
    for i = 2, #h do
      local o = h[i]
      if o[EXPIRES] > now and meets(o, id.at, id.window) then
        if o[STATUS] == COMPLETED then
          if not completed then completed = {j, o} end
        elseif o[LEASE] > now and (not owner or o[OWNER] ~= owner) then
          if not running then running = {j, o} end
        end
      end
    end
  end
  -- Refused: a completed occurrence before a running one, the first identity first; nothing is written.
  local refusal = completed or running
  if refusal then return {0, refusal[1], record_of(refusal[2])} end
  local reply = {1}
  for j = 1, count do
    local id = ids[j]
    local h = history(id.k)
    -- What the identity met no longer blocks (lapsed, or the owner's own): it is replaced.
    local kept = {h[1]}
    for i = 2, #h do
      local o = h[i]
      if o[EXPIRES] > now and not meets(o, id.at, id.window) then kept[#kept + 1] = o end
    end
    local token = math.max(h[1] + 1, token_floor)
    kept[1] = token
    kept[#kept + 1] = {IN_PROGRESS, token, now + lease, now + lifetime, now, id.at, fingerprint, owner, false}
    histories[id.k] = kept
    if write then dirty[id.k] = true end
    reply[j + 1] = token
  end
  return reply
end

local function complete_item(prepare)
  local count, retention, result = next_number(), next_number(), next_text()
  local held, states, lost = {}, {}, nil
  for j = 1, count do
    local k, token = next_number(), next_number()
    local h = history(k)
    local o = find(h, token)
    if o and o[STATUS] == IN_PROGRESS then
      held[#held + 1] = {k, o}
      states[j] = 1
    elseif o and prepare then
      -- Completed with this very token: an earlier attempt of this completion landed.
      states[j] = {2, record_of(o)}
    else
      local current = record_of(o or latest(h))
      states[j] = {0, current}
      if not lost then lost = {0, j, current} end
    end
  end
  if lost then
    if prepare then return states end
    return lost
  end
  for _, pair in ipairs(held) do
    local o = pair[2]
    if prepare then
      o[LEASE] = math.max(o[LEASE], now + retention)
      o[EXPIRES] = math.max(o[EXPIRES], o[LEASE])
    else
      o[STATUS], o[EXPIRES], o[RESULT] = COMPLETED, now + retention, result
    end
    dirty[pair[1]] = true
  end
  if prepare then return states end
  return {1}
end

local function extend_item(write)
  local count, lease = next_number(), next_number()
  local held, lost = {}, nil
  for j = 1, count do
    local k, token = next_number(), next_number()
    local o = find(history(k), token)
    if o and o[STATUS] == IN_PROGRESS and o[LEASE] > now then
      held[#held + 1] = {k, o}
    elseif not lost then
      lost = {0, j, record_of(o)}
    end
  end
  if lost then return lost end
  if write then
    for _, pair in ipairs(held) do
      local o = pair[2]
      o[LEASE] = now + lease
      o[EXPIRES] = math.max(o[EXPIRES], o[LEASE])
      dirty[pair[1]] = true
    end
  end
  return {1}
end

local function release_identity()
  local k, token = next_number(), next_number()
  local h = history(k)
  for i = 2, #h do
    local o = h[i]
    if o[TOKEN] == token and o[EXPIRES] > now and o[STATUS] == IN_PROGRESS then
      -- The counter stays, so the next claim still gets a higher token.
      table.remove(h, i)
      dirty[k] = true
      return 1
    end
  end
  return 0
end

local function run_items(item)
  local replies = {now}
  for i = 1, next_number() do replies[i + 1] = item() end
  flush()
  return replies
end

local function occurrence_op()
  if op == 'claim' or op == 'judge' then
    local write = op == 'claim'
    return run_items(function() return claim_item(write) end)
  elseif op == 'complete' or op == 'prepare' then
    local prepare = op == 'prepare'
    return run_items(function() return complete_item(prepare) end)
  elseif op == 'extend' or op == 'check' then
    local write = op == 'extend'
    return run_items(function() return extend_item(write) end)
  elseif op == 'release' then
    return run_items(release_identity)
  elseif op == 'get' then
    local token = next_optional_number()
    local h = history(1)
    local o
    if token then o = find(h, token) else o = latest(h) end
    return {now, record_of(o)}
  end
end
`;
