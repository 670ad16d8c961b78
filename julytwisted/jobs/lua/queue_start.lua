-- A worker starts a job it was handed: count the attempt.  A job that has
-- used up its attempts (its workers kept dying) goes to the dead letters.
-- ARGV: entry id, job id, now, consumer.
-- Returns {attempt number, name, JSON arguments, max attempts}, or 0 when the
-- job is dead or gone.
local key = 'j:q:job:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 or redis.call('HGET', key, 'state') == 'done' then
  redis.call('XACK', 'j:q:stream', 'workers', ARGV[1])
  redis.call('XDEL', 'j:q:stream', ARGV[1])
  return 0
end
local attempt = redis.call('HINCRBY', key, 'attempts', 1)
if attempt > tonumber(redis.call('HGET', key, 'max_attempts')) then
  redis.call('HSET', key, 'state', 'failed', 'finished', ARGV[3],
    'error', 'its worker stopped before it finished, too many times')
  redis.call('ZADD', 'j:q:dead', ARGV[3], ARGV[2])
  redis.call('XACK', 'j:q:stream', 'workers', ARGV[1])
  redis.call('XDEL', 'j:q:stream', ARGV[1])
  return 0
end
redis.call('HSET', key, 'state', 'running', 'started', ARGV[3], 'worker', ARGV[4])
local job = redis.call('HMGET', key, 'name', 'args', 'max_attempts')
return {attempt, job[1], job[2], job[3]}
