-- Give a dead job another round of attempts.
-- ARGV: job id.  Returns 1, or 0 when the job is not dead.
if redis.call('ZREM', 'j:q:dead', ARGV[1]) == 0 then return 0 end
redis.call('HSET', 'j:q:job:' .. ARGV[1], 'state', 'queued', 'attempts', 0)
redis.call('HDEL', 'j:q:job:' .. ARGV[1], 'finished')
redis.call('XADD', 'j:q:stream', '*', 'id', ARGV[1])
return 1
