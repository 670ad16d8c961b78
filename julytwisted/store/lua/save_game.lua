-- Save one game of j:games if it is still as the caller read it, and log
-- the change: an edit checked in Python against a definition another node
-- changed meanwhile is refused rather than lost.
--
-- KEYS: j:games, j:games:version, the game's log.
-- ARGV: the slug, the definition read ('' when there was none), the new
--   definition (JSON), the log entry (JSON), a new version never used
--   before (a node holding an older copy reloads even after a restore).
-- Returns 1 when saved, 0 when the definition had changed.
local stored = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if stored ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('RPUSH', KEYS[3], ARGV[4])
redis.call('SET', KEYS[2], ARGV[5])
return 1
