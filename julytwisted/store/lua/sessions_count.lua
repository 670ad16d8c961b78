-- Count a player's live web sessions but one; changes nothing.
--
-- KEYS[1]: the player's set.
-- ARGV[1]: the digest of the session not counted, or ""; ARGV[2]: the
--          prefix of every session's key.

local live = 0
for _, digest in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if digest ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. digest) == 1 then
    live = live + 1
  end
end
return live
