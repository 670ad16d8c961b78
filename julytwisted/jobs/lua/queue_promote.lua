-- Move delayed jobs that are due into the stream, a bounded batch at a time.
-- ARGV: now (seconds), batch size.  Returns how many moved.
local due = redis.call('ZRANGEBYSCORE', 'j:q:delayed', '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(due) do
  redis.call('ZREM', 'j:q:delayed', id)
  redis.call('HSET', 'j:q:job:' .. id, 'state', 'queued')
  redis.call('XADD', 'j:q:stream', '*', 'id', id)
end
return #due
