-- A new web session: its record, which lives LIFETIME milliseconds, and its
-- digest in its player's set, which lives as long as its longest-lived
-- session.  Digests in the set whose session has gone (expired) are dropped.
--
-- KEYS[1]: the session; KEYS[2]: its player's set, when it names a player.
-- ARGV[1]: the session's digest; ARGV[2]: its player or ""; ARGV[3]: the
--          admin token's fingerprint or ""; ARGV[4]: the lifetime in ms;
--          ARGV[5]: the prefix of every session's key.

local lifetime = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'u', ARGV[2], 'a', ARGV[3])
redis.call('PEXPIRE', KEYS[1], lifetime)
if KEYS[2] then
  for _, digest in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if redis.call('EXISTS', ARGV[5] .. digest) == 0 then
      redis.call('SREM', KEYS[2], digest)
    end
  end
  redis.call('SADD', KEYS[2], ARGV[1])
  -- Never shorten it: a session made under a longer lifetime must stay
  -- findable until it ends.
  if redis.call('PTTL', KEYS[2]) < lifetime then
    redis.call('PEXPIRE', KEYS[2], lifetime)
  end
end
return 1
