-- Move one player's e-mails from the set kept before e-mails were verified
-- (j:player:USERNAME:emails) to the verified set or to pending claims, once:
-- the old set is deleted, so running this again changes nothing.
--
-- A player with a password signed up and typed every e-mail they have, so
-- none was ever verified: each becomes a pending claim, and every commit
-- they were credited with returns to its e-mail's orphans (the recount of
-- the games returned takes the points back; confirming an e-mail adopts its
-- commits again).  A player without a password was made by an admin, who
-- vouched for their e-mails: those stay, verified.
--
-- ARGV[1]: the username.
-- Returns JSON {status = "ok" | "done", pending = N, commits = N,
-- games = [slug...]}.

local username = ARGV[1]
local pkey = 'j:player:' .. username
local old = redis.call('SMEMBERS', pkey .. ':emails')
if #old == 0 then return cjson.encode({status = 'done', pending = 0, commits = 0, games = {}}) end
redis.call('DEL', pkey .. ':emails')

local typed = redis.call('HEXISTS', 'j:auth:' .. username, 'password') == 1
if not typed then
  for _, email in ipairs(old) do
    if redis.call('GET', 'j:email:' .. email) == username then
      redis.call('SADD', pkey .. ':verified', email)
    end
  end
  return cjson.encode({status = 'ok', pending = 0, commits = 0, games = {}})
end

for _, email in ipairs(old) do
  if redis.call('GET', 'j:email:' .. email) == username then
    redis.call('DEL', 'j:email:' .. email)
  end
  claim_email(username, email)
end

local commits, seen, games = 0, {}, {}
for _, hash in ipairs(redis.call('ZRANGE', pkey .. ':commits', 0, -1)) do
  local ckey = 'j:commit:' .. hash
  local c = redis.call('HMGET', ckey, 'email', 'games', 'username')
  repend_owner(hash, c[3] or '', '')
  redis.call('HSET', ckey, 'username', '')
  if c[1] and c[1] ~= '' then redis.call('SADD', 'j:orphans:' .. c[1], hash) end
  for _, game in ipairs(json_list(c[2])) do
    if not seen[game] then seen[game] = true; games[#games + 1] = game end
  end
  commits = commits + 1
end
redis.call('DEL', pkey .. ':commits')
return cjson.encode({status = 'ok', pending = #old, commits = commits, games = games})
