-- End a player's web sessions, all but one: delete each and take it off the
-- player's set.
--
-- KEYS[1]: the player's set.
-- ARGV[1]: the digest of the session kept, or "" for none; ARGV[2]: the
--          prefix of every session's key.
-- Returns how many sessions ended (those already expired do not count).

local ended = 0
for _, digest in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if digest ~= ARGV[1] then
    ended = ended + redis.call('DEL', ARGV[2] .. digest)
    redis.call('SREM', KEYS[1], digest)
  end
end
return ended
