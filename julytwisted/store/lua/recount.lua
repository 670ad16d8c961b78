-- Rebuild every board of a game from its commits, as the rules score them
-- with each player's location and team now, and report what had drifted.
-- Idempotent: a second run finds nothing to repair.
--
-- A commit the rules no longer let score here (flagged as from the future,
-- made outside the window (a game ended early or moved), arrived outside the
-- window plus the late grace, or still waiting for its host's word, or
-- rejected by it, or held for review or rejected by an admin) leaves the
-- game's commits and its own list
-- of games, so that an adoption cannot score it either.
--
-- ARGV[1]: JSON {game, start, end (ISO 8601 UTC), start_ts, until_ts,
-- commit_points, first_bonus}; a
-- game of j:games scores with its own points (points_of).
-- Returns JSON {commits = N, repaired = [{board, member, was, now}]}.

local req = cjson.decode(ARGV[1])
COMMIT, BONUS = req.commit_points, req.first_bonus
local game = req.game
local base = 'j:game:' .. game
local commit_here, bonus_here = points_of(game)

-- board -> member -> {commits = n, projects = {slug = true}, nprojects = n}
local totals = {people = {}, projects = {}, locations = {}, teams = {}, languages = {}}
local function add(board, member, project)
  local t = totals[board][member]
  if not t then
    t = {commits = 0, projects = {}, nprojects = 0}
    totals[board][member] = t
  end
  t.commits = t.commits + 1
  if project and not t.projects[project] then
    t.projects[project] = true
    t.nprojects = t.nprojects + 1
  end
end

local groups = {}
local function groups_of(username)
  local g = groups[username]
  if g == nil then
    local who = redis.call('HMGET', 'j:player:' .. username, 'location', 'team')
    local team = who[2] or ''
    if team ~= '' and redis.call('HGET', 'j:team:' .. team, 'approved') ~= '1' then team = '' end
    g = {location = who[1] or '', team = team}
    groups[username] = g
  end
  return g
end

local window_start, window_end = sortable(req.start), sortable(req['end'])
local function scores_here(hash, made, future, arrived, pending, rejected, review)
  local at = tonumber(arrived or '')
  local unverified = pending == '1' or (rejected and rejected ~= '') or
    review == 'held' or review == 'rejected'
  local when = made and sortable(made)
  local outside = when and (when < window_start or when >= window_end)
  if future == '1' or unverified or outside or
     (at and (at < req.start_ts or at >= req.until_ts)) then
    redis.call('ZREM', base .. ':commits', hash)
    local kept = {}
    for _, g in ipairs(json_list(redis.call('HGET', 'j:commit:' .. hash, 'games'))) do
      if g ~= game then kept[#kept + 1] = g end
    end
    redis.call('HSET', 'j:commit:' .. hash, 'games',
      #kept > 0 and cjson.encode(kept) or '[]')
    return false
  end
  return true
end

-- A commit still waiting (for its host's word, or held for review) keeps
-- the games its arrival earned it, to score in once it is let through
-- (verify.lua, review.lua): one the window no longer holds loses its claim
-- on this game, so that it cannot score here later.
local function drop_claim(hash, field)
  local kept = {}
  for _, g in ipairs(json_list(redis.call('HGET', 'j:commit:' .. hash, field))) do
    if g ~= game then kept[#kept + 1] = g end
  end
  if #kept > 0 then
    redis.call('HSET', 'j:commit:' .. hash, field, cjson.encode(kept))
  else
    redis.call('HDEL', 'j:commit:' .. hash, field)
  end
end
for _, hash in ipairs(redis.call('ZRANGE', base .. ':pending', 0, -1)) do
  local c = redis.call('HMGET', 'j:commit:' .. hash, 'timestamp', 'arrived_ts',
    'future')
  local when = c[1] and sortable(c[1])
  local at = tonumber(c[2] or '')
  if c[3] == '1' or (when and (when < window_start or when >= window_end)) or
     (at and (at < req.start_ts or at >= req.until_ts)) then
    redis.call('ZREM', base .. ':pending', hash)
    drop_claim(hash, 'pending_games')
    drop_claim(hash, 'held_games')
  end
end

local hashes, counted = redis.call('ZRANGE', base .. ':commits', 0, -1), 0
for _, hash in ipairs(hashes) do
  local c = redis.call('HMGET', 'j:commit:' .. hash, 'username', 'project',
    'languages', 'future', 'arrived_ts', 'pending', 'rejected', 'timestamp',
    'review')
  if scores_here(hash, c[8], c[4], c[5], c[6], c[7], c[9]) then
    counted = counted + 1
    add('projects', c[2], c[2])
    if c[1] and c[1] ~= '' then
      add('people', c[1], c[2])
      local g = groups_of(c[1])
      if g.location ~= '' then add('locations', g.location, c[2]) end
      if g.team ~= '' then add('teams', g.team, c[2]) end
    end
    for _, language in ipairs(json_list(c[3])) do add('languages', language, nil) end
  end
end

local repaired = {}
for board, members in pairs(totals) do
  local key = base .. ':board:' .. board
  for member, t in pairs(members) do
    local points = t.commits * commit_here + t.nprojects * bonus_here
    local old = redis.call('ZSCORE', key, member)
    local was = old and math.floor(tonumber(old)) or 0
    if was ~= points then
      repaired[#repaired + 1] = {board = board, member = member, was = was, now = points}
      set_points(game, board, member, points, next_fraction(game, board))
    end
    redis.call('HSET', base .. ':count:' .. board, member, t.commits)
    if board ~= 'languages' then
      local pkey = base .. ':projects:' .. board .. ':' .. member
      redis.call('DEL', pkey)
      for project in pairs(t.projects) do redis.call('SADD', pkey, project) end
    end
  end
  for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    if not members[member] then
      local old = redis.call('ZSCORE', key, member)
      repaired[#repaired + 1] = {board = board, member = member,
        was = math.floor(tonumber(old)), now = 0}
      redis.call('ZREM', key, member)
      redis.call('HDEL', base .. ':count:' .. board, member)
      redis.call('DEL', base .. ':projects:' .. board .. ':' .. member)
    end
  end
end
-- The pending counts board.lua shows, rebuilt from the game's pending set.
recount_pending(game)
return cjson.encode({commits = counted, repaired = repaired})
