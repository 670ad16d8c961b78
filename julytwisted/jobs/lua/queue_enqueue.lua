-- Put a job in the queue: its hash, then the stream (due now) or the delayed
-- set (due later).
-- ARGV: id, name, args (JSON), max_attempts, now (seconds), due (seconds),
-- and a unique key with its time to live in seconds ("" and 0 for none):
-- while that key lives, enqueueing under it again adds nothing and returns
-- the first job's id.
local id, now, due = ARGV[1], tonumber(ARGV[5]), tonumber(ARGV[6])
if ARGV[7] ~= '' then
  local unique = 'j:q:unique:' .. ARGV[7]
  if not redis.call('SET', unique, id, 'NX', 'EX', ARGV[8]) then
    return redis.call('GET', unique)
  end
end
redis.call('HSET', 'j:q:job:' .. id, 'id', id, 'name', ARGV[2], 'args', ARGV[3],
  'max_attempts', ARGV[4], 'attempts', 0, 'created', ARGV[5], 'run_at', ARGV[6])
if due > now then
  redis.call('HSET', 'j:q:job:' .. id, 'state', 'delayed')
  redis.call('ZADD', 'j:q:delayed', ARGV[6], id)
else
  redis.call('HSET', 'j:q:job:' .. id, 'state', 'queued')
  redis.call('XADD', 'j:q:stream', '*', 'id', id)
end
return id
