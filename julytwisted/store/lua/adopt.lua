-- Give the orphan commits of an e-mail to the player who now has it verified
-- (a pending claim adopts nothing), and score them for the player, their
-- location and their (approved) team.  A commit adopted already is skipped,
-- so running this twice changes nothing.
--
-- ARGV[1]: JSON {email, commit_points, first_bonus}.
-- Returns JSON {status = "ok" | "unowned", username, adopted = N}.

local req = cjson.decode(ARGV[1])
COMMIT, BONUS = req.commit_points, req.first_bonus
local username = redis.call('GET', 'j:email:' .. req.email)
if not username then return cjson.encode({status = 'unowned', adopted = 0}) end
local pkey = 'j:player:' .. username
local who = redis.call('HMGET', pkey, 'location', 'team')
local location, team = who[1] or '', who[2] or ''
if team ~= '' and redis.call('HGET', 'j:team:' .. team, 'approved') ~= '1' then team = '' end

local adopted = 0
for _, hash in ipairs(redis.call('SMEMBERS', 'j:orphans:' .. req.email)) do
  local ckey = 'j:commit:' .. hash
  local c = redis.call('HMGET', ckey, 'username', 'project', 'games', 'seq')
  if c[1] == '' then
    repend_owner(hash, '', username)
    redis.call('HSET', ckey, 'username', username)
    redis.call('ZADD', pkey .. ':commits', c[4], hash)
    for _, game in ipairs(json_list(c[3])) do
      score(game, 'people', username, c[2])
      if location ~= '' then score(game, 'locations', location, c[2]) end
      if team ~= '' then score(game, 'teams', team, c[2]) end
    end
    adopted = adopted + 1
  end
  redis.call('SREM', 'j:orphans:' .. req.email, hash)
end
return cjson.encode({status = 'ok', username = username, adopted = adopted})
