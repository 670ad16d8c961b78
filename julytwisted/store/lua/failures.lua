-- The credential-failure budget: GCRA over failed sign-ins, one key per
-- client address and one per username, on Redis's clock so every node
-- agrees.  Only failures spend it; checking it spends nothing.
-- KEYS: the budgets concerned (the address's, then the username's if any).
-- ARGV[1]: 'check' or 'spend'; then, per key, the interval between failures
-- at the steady rate (µs) and the burst (failures at once), as pairs.
-- Returns the µs until an attempt may be checked again (0: it may now).
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  -- tat: when this budget's spent failures will all have drained.
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  if ARGV[1] == 'spend' then
    tat = tat + interval
    redis.call('SET', key, string.format('%d', tat),
      'PX', math.ceil((tat - now) / 1000))
  end
  -- Another failure fits while less than a whole burst is outstanding.
  local over = tat - now - (burst - 1) * interval
  if over > wait then wait = over end
end
return wait
