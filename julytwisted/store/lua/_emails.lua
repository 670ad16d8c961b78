-- Shared by the scripts that change whose an e-mail is: prepended to each by
-- julytwisted/store/_scripts.py.
--
-- An e-mail is verified for at most one player (j:email:ADDRESS names them,
-- j:player:USERNAME:verified lists theirs); only a verified e-mail scores.
-- Any number of players may claim it meanwhile (j:player:USERNAME:pending,
-- j:email-claims:ADDRESS): a claim scores nothing and blocks nobody.

-- Make EMAIL the verified e-mail of USERNAME, and end every pending claim
-- of it, theirs and others' (the links mailed for those claims die too).
local function verify_email(username, email)
  redis.call('SET', 'j:email:' .. email, username)
  redis.call('SADD', 'j:player:' .. username .. ':verified', email)
  local claims = 'j:email-claims:' .. email
  for _, claimant in ipairs(redis.call('SMEMBERS', claims)) do
    redis.call('HDEL', 'j:player:' .. claimant .. ':pending', email)
  end
  redis.call('DEL', claims)
end

-- Record USERNAME's pending claim of EMAIL, with no link mailed yet.
local function claim_email(username, email)
  redis.call('HSET', 'j:player:' .. username .. ':pending', email, '')
  redis.call('SADD', 'j:email-claims:' .. email, username)
end

-- Withdraw USERNAME's pending claim of EMAIL.
local function drop_claim(username, email)
  redis.call('HDEL', 'j:player:' .. username .. ':pending', email)
  redis.call('SREM', 'j:email-claims:' .. email, username)
end
