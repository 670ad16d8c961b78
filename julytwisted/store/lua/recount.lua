-- Rebuild every board of a game from the commits the rules let score in it
-- now, with each player's location and team now, and report what had
-- drifted.  Idempotent: a second run finds nothing to repair.
--
-- The commits looked at: the game's own (j:game:SLUG:commits), those
-- waiting for it (j:game:SLUG:pending), and every commit whose push arrived
-- in the window plus the late grace (j:commits:arrived), so that a window
-- extended (or a node that ingested with a stale copy of the games) takes
-- in what arrived meanwhile, as the ingest would have.  Each is put where
-- the rules now say:
--
--  * it may count here when it is not flagged as from the future, its own
--    time is in the window, its arrival (when known) in the window plus the
--    late grace, and neither its host nor an admin rejected it;
--  * such a commit still waiting for its host's word (pending) or held for
--    review waits for this game too: listed in its pending_games or
--    held_games and in j:game:SLUG:pending, so that verify.lua or review.lua
--    scores it here once it may;
--  * one never reviewed that scored nowhere yet, on a node with review days
--    (req.review_days) whose days since its arrival have not run out, is
--    held until they do, as the ingest would have held it;
--  * any other counts: it is in the game's commits and in its own list of
--    games (an orphan's adoption then scores it for its player too);
--  * a commit that may not count here leaves all of these, so that an
--    adoption, a verification or a release cannot score it either.
--
-- ARGV[1]: JSON {game, start, end (ISO 8601 UTC), start_ts, until_ts,
-- now_ts, review_days, commit_points, first_bonus}; a game of j:games
-- scores with its own points (points_of).
-- Returns JSON {commits = N, added = N, repaired = [{board, member, was, now}]}:
-- the commits counted, of those the ones the game did not hold before, and
-- the board entries put right.

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

-- A commit's list field (games, held_games, pending_games) with this game
-- in it or not; written only when that changes.
local function list_has(list)
  for _, g in ipairs(list) do
    if g == game then return true end
  end
  return false
end
local function keep_listed(hash, field, text, wanted)
  local list = json_list(text)
  if list_has(list) == wanted then return end
  local kept = {}
  for _, g in ipairs(list) do
    if g ~= game then kept[#kept + 1] = g end
  end
  if wanted then kept[#kept + 1] = game end
  redis.call('HSET', 'j:commit:' .. hash, field,
    #kept > 0 and cjson.encode(kept) or '[]')
end

-- An ISO 8601 UTC time moved on by whole days (the review days).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100)
    + doy - 719468
end
local function civil_from_days(z)
  z = z + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
    - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m, d
end
local function plus_days(ts, n)
  local y, m, d = string.match(ts, '^(%d%d%d%d)-(%d%d)-(%d%d)')
  local y2, m2, d2 = civil_from_days(days_from_civil(tonumber(y), tonumber(m),
    tonumber(d)) + n)
  return string.format('%04d-%02d-%02d', y2, m2, d2) .. string.sub(ts, 11)
end

local FIELDS = {'username', 'project', 'languages', 'future', 'arrived_ts',
  'pending', 'rejected', 'timestamp', 'review', 'games', 'seq', 'held_games',
  'pending_games', 'arrived'}
local function load(hash)
  local values = redis.call('HMGET', 'j:commit:' .. hash, unpack(FIELDS))
  local c = {}
  for i, name in ipairs(FIELDS) do c[name] = values[i] end
  return c
end

local window_start, window_end = sortable(req.start), sortable(req['end'])
local function may_count(c)
  if c.future == '1' or (c.rejected and c.rejected ~= '') or
     c.review == 'rejected' then
    return false
  end
  local when = c.timestamp and sortable(c.timestamp)
  if when and (when < window_start or when >= window_end) then return false end
  local at = tonumber(c.arrived_ts or '')
  return not (at and (at < req.start_ts or at >= req.until_ts))
end

-- Hold a commit never reviewed that neither scores nor waits anywhere yet
-- (the ingest held none of it) for the review days left since its arrival,
-- as the ingest would have held it; the review flags need its push, and
-- are left out.
local function hold_for_days(hash, c)
  if req.review_days <= 0 or (c.review and c.review ~= '') or
     #json_list(c.games) > 0 or #json_list(c.pending_games) > 0 then
    return false
  end
  local at = tonumber(c.arrived_ts or '')
  if not at or not c.arrived then return false end
  local due = at + req.review_days * 86400
  if due <= req.now_ts then return false end
  redis.call('HSET', 'j:commit:' .. hash, 'review', 'held', 'held_games', '[]',
    'review_flags', '[]', 'review_until', plus_days(c.arrived, req.review_days))
  redis.call('ZADD', 'j:review:held', string.format('%.6f', due), hash)
  c.review, c.held_games = 'held', '[]'
  return true
end

-- Put one commit where the rules now say (see above); returns its record
-- when it counts here.
local function place(hash)
  local c = load(hash)
  if not c.project then
    redis.call('ZREM', base .. ':commits', hash)
    redis.call('ZREM', base .. ':pending', hash)
    return nil
  end
  local may = may_count(c)
  local pending = c.pending == '1'
  if may then hold_for_days(hash, c) end
  local held = c.review == 'held'
  local counts = may and not pending and not held
  if counts then
    redis.call('ZADD', base .. ':commits', c.seq, hash)
  else
    redis.call('ZREM', base .. ':commits', hash)
  end
  keep_listed(hash, 'games', c.games, counts)
  if pending then keep_listed(hash, 'pending_games', c.pending_games, may) end
  if held then keep_listed(hash, 'held_games', c.held_games, may) end
  if may and (pending or held) then
    redis.call('ZADD', base .. ':pending', c.seq, hash)
  else
    redis.call('ZREM', base .. ':pending', hash)
  end
  return counts and c or nil
end

local seen, counted, added = {}, 0, 0
local function visit(hash, held_before)
  if seen[hash] then return end
  seen[hash] = true
  local c = place(hash)
  if not c then return end
  counted = counted + 1
  if not held_before then added = added + 1 end
  add('projects', c.project, c.project)
  if c.username and c.username ~= '' then
    add('people', c.username, c.project)
    local g = groups_of(c.username)
    if g.location ~= '' then add('locations', g.location, c.project) end
    if g.team ~= '' then add('teams', g.team, c.project) end
  end
  for _, language in ipairs(json_list(c.languages)) do add('languages', language, nil) end
end

for _, hash in ipairs(redis.call('ZRANGE', base .. ':commits', 0, -1)) do
  visit(hash, true)
end
for _, hash in ipairs(redis.call('ZRANGE', base .. ':pending', 0, -1)) do
  visit(hash, false)
end
for _, hash in ipairs(redis.call('ZRANGEBYSCORE', 'j:commits:arrived',
    string.format('%.6f', req.start_ts), '(' .. string.format('%.6f', req.until_ts))) do
  visit(hash, false)
end

local repaired = {}
for board, members in pairs(totals) do
  local key = base .. ':board:' .. board
  for member, t in pairs(members) do
    local points = t.commits * commit_here + t.nprojects * bonus_here
    local old = redis.call('ZSCORE', key, member)
    local was = old and math.floor(tonumber(old)) or 0
    -- A member new to the board is put on it even with no points (a game
    -- may give none), as the ingest's scoring puts it.
    if was ~= points or not old then
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
-- The pending counts board.lua shows, rebuilt from the game's pending set
-- (place above adds to it and takes from it directly).
recount_pending(game)
return cjson.encode({commits = counted, added = added, repaired = repaired})
