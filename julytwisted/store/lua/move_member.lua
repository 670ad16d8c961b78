-- Move a player to another location or team (or to none), and move their
-- points with them: both groups are recounted, in every game the player has
-- commits in, from their members' commits now.
--
-- ARGV[1]: JSON {username, board = "locations" | "teams",
--                group = {slug, name} or null, approve, commit_points, first_bonus}.
-- Returns JSON {status = "ok" | "missing" | "unchanged", old, new, games = [...]}.

local req = cjson.decode(ARGV[1])
COMMIT, BONUS = req.commit_points, req.first_bonus
local pkey = 'j:player:' .. req.username
if redis.call('EXISTS', pkey) == 0 then
  return cjson.encode({status = 'missing'})
end
local field = req.board == 'locations' and 'location' or 'team'
local prefix = req.board == 'locations' and 'j:location:' or 'j:team:'
local old = redis.call('HGET', pkey, field) or ''
local new = ''
if req.group ~= cjson.null then new = req.group.slug end
if old == new then
  return cjson.encode({status = 'unchanged', old = old, new = new, games = {}})
end

if new ~= '' then
  redis.call('HSETNX', prefix .. new, 'slug', new)
  redis.call('HSETNX', prefix .. new, 'name', req.group.name)
  if req.board == 'teams' then
    redis.call('HSETNX', prefix .. new, 'approved', req.approve and '1' or '0')
    if redis.call('HGET', prefix .. new, 'approved') ~= '1' then
      redis.call('SADD', 'j:teams:waiting', new)
    end
  end
  redis.call('SADD', prefix .. new .. ':members', req.username)
end
if old ~= '' then redis.call('SREM', prefix .. old .. ':members', req.username) end
redis.call('HSET', pkey, field, new)

local function scores(slug)
  if slug == '' then return false end
  if req.board == 'locations' then return true end
  return redis.call('HGET', prefix .. slug, 'approved') == '1'
end

local games = {}
for game in pairs(games_of_player(req.username)) do
  games[#games + 1] = game
  if old ~= '' then recount_group(game, req.board, old, scores(old)) end
  if new ~= '' then recount_group(game, req.board, new, scores(new)) end
end
return cjson.encode({status = 'ok', old = old, new = new, games = games})
