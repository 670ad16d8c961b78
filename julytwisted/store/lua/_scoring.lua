-- Shared by the scripts that score: prepended to each by julytwisted/store/_scripts.py.
-- Each script sets COMMIT and BONUS (the points of a commit and of a first
-- commit on a project), passed from julytwisted.scoring, before calling these:
-- the points of a game with none of its own (a built-in one).  A game kept in
-- j:games (see julytwisted/store/games.py) may set its own, which
-- points_of reads once per script run.

local COMMIT, BONUS

-- An ISO 8601 UTC time as the store writes it, in a form that sorts as
-- the instants do: the seconds, then the fraction padded to microseconds.
local function sortable(ts)
  local frac = string.match(ts, '%.(%d+)') or ''
  return string.sub(ts, 1, 19) .. string.sub(frac .. '000000', 1, 6)
end

local game_points = {}
-- The points of a commit and of a first commit on a project in a game.
local function points_of(game)
  local found = game_points[game]
  if not found then
    found = {COMMIT, BONUS}
    local stored = redis.call('HGET', 'j:games', game)
    if stored then
      local def = cjson.decode(stored)
      found = {tonumber(def.commit_points) or COMMIT, tonumber(def.first_bonus) or BONUS}
    end
    game_points[game] = found
  end
  return found[1], found[2]
end

-- Ties on a board go to whoever got there first: the score is points plus a
-- fraction that shrinks with every update of the board.
local TICKS = 1073741824

local function next_fraction(game, board)
  local tick = redis.call('HINCRBY', 'j:game:' .. game .. ':ticks', board, 1)
  return (TICKS - tick) / TICKS
end

local function set_points(game, board, member, points, fraction)
  local key = 'j:game:' .. game .. ':board:' .. board
  redis.call('ZADD', key, string.format('%.17g', points + fraction), member)
end

local function bump(game, board, member, delta)
  local old = redis.call('ZSCORE', 'j:game:' .. game .. ':board:' .. board, member)
  local points = delta
  if old then points = points + math.floor(tonumber(old)) end
  set_points(game, board, member, points, next_fraction(game, board))
end

-- 1 for the commit, plus the bonus the first time this member scores on this
-- project in this game.  Returns the points given.
local function score(game, board, member, project)
  local first = redis.call('SADD', 'j:game:' .. game .. ':projects:' .. board .. ':' .. member, project)
  local commit, bonus = points_of(game)
  local points = commit
  if first == 1 then points = points + bonus end
  bump(game, board, member, points)
  redis.call('HINCRBY', 'j:game:' .. game .. ':count:' .. board, member, 1)
  return points
end

-- The members a commit of project `slug` by `username` (false for an orphan)
-- scores for: the project, the player, their location and their approved
-- team, by board; and the player's picture, for the feed.
local function members_of(slug, username)
  local members, picture = {projects = slug}, false
  if username then
    members.people = username
    local who = redis.call('HMGET', 'j:player:' .. username, 'location', 'team',
      'picture_url')
    if who[1] and who[1] ~= '' then members.locations = who[1] end
    if who[3] and who[3] ~= '' then picture = who[3] end
    if who[2] and who[2] ~= '' and
       redis.call('HGET', 'j:team:' .. who[2], 'approved') == '1' then
      members.teams = who[2]
    end
  end
  return members, picture
end

-- Score one commit in one game on the boards of its members (members_of's)
-- and of its languages.  Returns the points its player (else its project)
-- earned.
local function score_in_game(game, seq, hash, members, languages)
  local slug = members.projects
  redis.call('ZADD', 'j:game:' .. game .. ':commits', seq, hash)
  local points = score(game, 'projects', slug, slug)
  if members.people then points = score(game, 'people', members.people, slug) end
  if members.locations then score(game, 'locations', members.locations, slug) end
  if members.teams then score(game, 'teams', members.teams, slug) end
  for _, language in ipairs(languages) do
    bump(game, 'languages', language, (points_of(game)))
    redis.call('HINCRBY', 'j:game:' .. game .. ':count:languages', language, 1)
  end
  return points
end

local function json_list(text)
  if not text or text == '' then return {} end
  local decoded = cjson.decode(text)
  if type(decoded) ~= 'table' then return {} end
  return decoded
end

-- The games a player has commits in, as a set.
local function games_of_player(username)
  local games = {}
  for _, hash in ipairs(redis.call('ZRANGE', 'j:player:' .. username .. ':commits', 0, -1)) do
    for _, game in ipairs(json_list(redis.call('HGET', 'j:commit:' .. hash, 'games'))) do
      games[game] = true
    end
  end
  return games
end

-- Rebuild one group's (a location's or a team's) entry on a game's board from
-- the commits of its members now: each commit 1, each distinct project 10.
-- The member keeps its place among ties when its points do not change.
local function recount_group(game, board, slug, scores)
  local key = 'j:game:' .. game .. ':board:' .. board
  local projects_key = 'j:game:' .. game .. ':projects:' .. board .. ':' .. slug
  local commits, projects, nprojects = 0, {}, 0
  if scores then
    local prefix = board == 'locations' and 'j:location:' or 'j:team:'
    for _, username in ipairs(redis.call('SMEMBERS', prefix .. slug .. ':members')) do
      for _, hash in ipairs(redis.call('ZRANGE', 'j:player:' .. username .. ':commits', 0, -1)) do
        local c = redis.call('HMGET', 'j:commit:' .. hash, 'games', 'project')
        for _, g in ipairs(json_list(c[1])) do
          if g == game then
            commits = commits + 1
            if not projects[c[2]] then projects[c[2]] = true; nprojects = nprojects + 1 end
          end
        end
      end
    end
  end
  redis.call('DEL', projects_key)
  for project in pairs(projects) do redis.call('SADD', projects_key, project) end
  if commits == 0 then
    redis.call('ZREM', key, slug)
    redis.call('HDEL', 'j:game:' .. game .. ':count:' .. board, slug)
    return
  end
  local commit, bonus = points_of(game)
  local points = commits * commit + nprojects * bonus
  local old = redis.call('ZSCORE', key, slug)
  local fraction
  if old and math.floor(tonumber(old)) == points then
    fraction = tonumber(old) - points
  else
    fraction = next_fraction(game, board)
  end
  set_points(game, board, slug, points, fraction)
  redis.call('HSET', 'j:game:' .. game .. ':count:' .. board, slug, commits)
end

-- A game's pending set (j:game:GAME:pending: the commits waiting for their
-- host's word, or held for review, that would score in it) and, beside it,
-- how many of them each player and each project has
-- (j:game:GAME:pending:people and :projects, member -> n), which board.lua
-- shows without reading the set.  Every script that adds to or takes from
-- the set, or changes the owner of a commit in it, goes through these.
local function count_pending(game, board, member, delta)
  if not member or member == '' then return end
  local key = 'j:game:' .. game .. ':pending:' .. board
  if redis.call('HINCRBY', key, member, delta) <= 0 then
    redis.call('HDEL', key, member)
  end
end

local function count_commit(game, hash, delta)
  local c = redis.call('HMGET', 'j:commit:' .. hash, 'username', 'project')
  count_pending(game, 'people', c[1], delta)
  count_pending(game, 'projects', c[2], delta)
end

-- Put a stored commit in a game's pending set, and in its player's and its
-- project's counts: once, however often it is put there.
local function wait_in_game(game, seq, hash)
  if redis.call('ZADD', 'j:game:' .. game .. ':pending', seq, hash) == 1 then
    count_commit(game, hash, 1)
  end
end

-- Take a commit out of a game's pending set, and out of its owner's counts.
local function unwait_in_game(game, hash)
  if redis.call('ZREM', 'j:game:' .. game .. ':pending', hash) == 1 then
    count_commit(game, hash, -1)
  end
end

-- A commit's player is about to change from `old` to `new` ('' for none):
-- move it between their counts in every game whose pending set holds it
-- (the games of its pending_games and held_games, where ingest.lua put it).
local function repend_owner(hash, old, new)
  local c = redis.call('HMGET', 'j:commit:' .. hash, 'pending_games', 'held_games')
  local seen = {}
  for i = 1, 2 do
    for _, game in ipairs(json_list(c[i])) do
      if not seen[game] and
         redis.call('ZSCORE', 'j:game:' .. game .. ':pending', hash) then
        count_pending(game, 'people', old, -1)
        count_pending(game, 'people', new, 1)
      end
      seen[game] = true
    end
  end
end

-- Rebuild a game's pending counts from its pending set.  Returns the
-- number of commits in the set.
local function recount_pending(game)
  local base = 'j:game:' .. game .. ':pending'
  local counts = {people = {}, projects = {}}
  redis.call('DEL', base .. ':people', base .. ':projects')
  local hashes = redis.call('ZRANGE', base, 0, -1)
  for _, hash in ipairs(hashes) do
    local c = redis.call('HMGET', 'j:commit:' .. hash, 'username', 'project')
    for board, member in pairs({people = c[1], projects = c[2]}) do
      if member and member ~= '' then
        counts[board][member] = (counts[board][member] or 0) + 1
      end
    end
  end
  for board, members in pairs(counts) do
    for member, n in pairs(members) do
      redis.call('HSET', base .. ':' .. board, member, n)
    end
  end
  return #hashes
end
