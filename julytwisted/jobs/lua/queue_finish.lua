-- A job's run ended: done, to be retried at a time, or dead.
-- ARGV: entry id, job id, now, outcome ("done" | "retry" | "failed"),
--       result or error (JSON), retry time.
local key = 'j:q:job:' .. ARGV[2]
redis.call('XACK', 'j:q:stream', 'workers', ARGV[1])
redis.call('XDEL', 'j:q:stream', ARGV[1])
if ARGV[4] == 'done' then
  redis.call('HSET', key, 'state', 'done', 'finished', ARGV[3], 'result', ARGV[5])
  redis.call('HDEL', key, 'error')
elseif ARGV[4] == 'retry' then
  redis.call('HSET', key, 'state', 'delayed', 'error', ARGV[5], 'run_at', ARGV[6])
  redis.call('ZADD', 'j:q:delayed', ARGV[6], ARGV[2])
else
  redis.call('HSET', key, 'state', 'failed', 'finished', ARGV[3], 'error', ARGV[5])
  redis.call('ZADD', 'j:q:dead', ARGV[3], ARGV[2])
end
return 1
