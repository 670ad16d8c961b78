-- Approve (or unapprove) a team and recount it in every game its members
-- have commits in: a team scores only while approved.
--
-- ARGV[1]: JSON {slug, approved, commit_points, first_bonus}.
-- Returns JSON {status = "ok" | "missing", games = [...]}.

local req = cjson.decode(ARGV[1])
COMMIT, BONUS = req.commit_points, req.first_bonus
local tkey = 'j:team:' .. req.slug
if redis.call('EXISTS', tkey) == 0 then
  return cjson.encode({status = 'missing', games = {}})
end
redis.call('HSET', tkey, 'approved', req.approved and '1' or '0')
if req.approved then
  redis.call('SREM', 'j:teams:waiting', req.slug)
else
  redis.call('SADD', 'j:teams:waiting', req.slug)
end
local games = {}
for _, username in ipairs(redis.call('SMEMBERS', tkey .. ':members')) do
  for game in pairs(games_of_player(username)) do games[game] = true end
end
local list = {}
for game in pairs(games) do
  list[#list + 1] = game
  recount_group(game, 'teams', req.slug, req.approved)
end
return cjson.encode({status = 'ok', games = list})
