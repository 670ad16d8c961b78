-- GCRA (the generic cell rate algorithm): one key per client holds the
-- theoretical arrival time (TAT) of its next request, in microseconds of
-- Redis's own clock, so that every node agrees.  A request is allowed when
-- it is no more than the burst ahead of its TAT.
-- KEYS[1]: the client's key.  ARGV: interval between requests at the steady
-- rate (µs), burst (requests at once).
-- Returns {allowed (1/0), retry after (µs), remaining}.
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
local allow_at = next_tat - burst * interval
if now < allow_at then
  return {0, allow_at - now, 0}
end
redis.call('SET', KEYS[1], string.format('%d', next_tat),
  'PX', math.ceil((next_tat - now) / 1000))
return {1, 0, math.floor((now - allow_at) / interval)}
