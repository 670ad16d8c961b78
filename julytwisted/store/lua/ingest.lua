-- One push, applied atomically: store the new commits of a project and score
-- each on every board of every game the request names for it (the rules of
-- julytwisted.game.scoring, decided in Python from the commit's own time and
-- the push's arrival).  A commit already stored is skipped, so redelivery and
-- racing nodes count it once.
--
-- With verify set, the new commits of a registered repository are stored
-- pending instead: they score nothing until verify.lua scores them.
--
-- A new commit that would score is held for review (review = 'held', see
-- julytwisted/store/review.py) when the node has review days, or when it is
-- flagged: its games wait in held_games until review.lua scores it.
--
-- ARGV[1]: JSON {project, commits, arrived, arrived_ts, commit_points,
--                first_bonus, feed_maxlen, verify, review}; see
--                julytwisted/store/ingest.py.
-- Returns JSON {status = "ok" | "inactive", project = slug, new = [hash...],
--               created = bool, pending = [hash...], held = [hash...]}.

local req = cjson.decode(ARGV[1])
local P = req.project
COMMIT, BONUS = req.commit_points, req.first_bonus

-- The project: the repository's by the host's id, else by its canonical URL
-- (a project of another repository id under that URL is not this one's).
local slug = false
if P.id_key ~= '' then slug = redis.call('GET', P.id_key) end
if not slug then
  local by_url = redis.call('GET', P.url_key)
  if by_url then
    local known = redis.call('HGET', 'j:project:' .. by_url, 'host_id')
    if P.host_id == '' or not known or known == '' or known == P.host_id then
      slug = by_url
    end
  end
end
local created = false
if not slug then
  -- A push names its project once: later pushes never rename or renumber it.
  slug = P.slug
  local n = 1
  while redis.call('EXISTS', 'j:project:' .. slug) == 1 do
    n = n + 1
    slug = P.slug .. '-' .. n
  end
  redis.call('SET', P.url_key, slug)
  redis.call('HSET', 'j:project:' .. slug, 'slug', slug, 'url', P.url,
    'service', P.service, 'active', '1', 'created', req.arrived,
    'host_id', P.host_id, 'name', P.name, 'description', P.description,
    'watchers', P.watchers, 'forks', P.forks, 'forked', P.forked)
  created = true
end
local pkey = 'j:project:' .. slug
local project = redis.call('HMGET', pkey, 'active', 'registered', 'url', 'name')
if project[1] == '0' then
  return cjson.encode({status = 'inactive', project = slug, new = {}})
end
if P.id_key ~= '' and redis.call('SET', P.id_key, slug, 'NX') then
  -- A project made from a push without the id learns it.
  redis.call('HSET', pkey, 'host_id', P.host_id)
end
local shown = {slug = slug, name = project[4] or P.name, url = project[3] or P.url}
if project[2] == '1' and shown.url ~= P.url and P.id_key ~= '' then
  -- A registered repository's own signed push: renamed or transferred.
  redis.call('SET', P.url_key, slug)
  redis.call('HSET', pkey, 'url', P.url)
  shown.url = P.url
end

local new, published = {}, {}
-- Each channel's stream keeps its recent history for replay.  An entry takes
-- the id XADD gives it on 'global', which every entry is on, and keeps that id
-- on every other channel, so one id orders a watcher's whole feed.  One
-- message on j:live tells every node's live bridge what was added.
local function feed(kind, data, channels)
  local entry, names = cjson.encode(data), cjson.encode(channels)
  local id = redis.call('XADD', 'j:feed:global', 'MAXLEN', '~', req.feed_maxlen,
    '*', 'type', kind, 'data', entry, 'channels', names)
  for i = 2, #channels do
    redis.call('XADD', 'j:feed:' .. channels[i], 'MAXLEN', '~', req.feed_maxlen,
      id, 'type', kind, 'data', entry, 'channels', names)
  end
  published[#published + 1] = {id = id, type = kind, channels = channels,
    data = entry}
end

-- The top-10 places on a game's boards that scoring one commit changed.
local CHANNEL_OF = {people = 'player:', projects = 'project:',
  locations = 'location:', teams = 'team:'}
local function ranks(game, members)
  local found = {}
  for board, member in pairs(members) do
    found[board] = redis.call('ZREVRANK', 'j:game:' .. game .. ':board:' .. board,
      member)
  end
  return found
end
local function rank_changes(game, members, before)
  local after = ranks(game, members)
  for board, member in pairs(members) do
    local now, was = after[board], before[board]
    if now and now < 10 and now ~= was then
      local score = redis.call('ZSCORE', 'j:game:' .. game .. ':board:' .. board,
        member)
      feed('board', {game = game, board = board, member = member, rank = now + 1,
        previous = was and was + 1 or cjson.null,
        points = math.floor(tonumber(score))},
        {'global', CHANNEL_OF[board] .. member})
    end
  end
end

-- A registered repository's commits wait for their host's word when the
-- node verifies commits: stored, listed, and scored by verify.lua once the
-- host knows them.
local verified = not (req.verify and project[2] == '1')
local pending = {}
-- The private boards (j:pboard:ID) a player is on whose game the commit
-- scores in and whose dates hold its own time: their watchers see it, and
-- their kept rankings go, so that a page refreshed on seeing it counts it.
-- Times compare as text in the form the board keeps its dates in
-- (sortable, of _scoring.lua).
local function board_channels(username, c, channels)
  local ids = redis.call('SMEMBERS', 'j:player:' .. username .. ':pboards')
  if #ids == 0 then return end
  local games, at = {}, sortable(c.timestamp)
  for _, game in ipairs(c.games) do games[game] = true end
  for _, id in ipairs(ids) do
    local b = redis.call('HMGET', 'j:pboard:' .. id, 'game', 'start_key', 'end_key')
    if b[1] and games[b[1]] and at >= b[2] and at < b[3] then
      channels[#channels + 1] = 'board:' .. id
      redis.call('DEL', 'j:pboard:' .. id .. ':standings')
    end
  end
end

-- The review flags of a new commit (its own, and a burst: more commits by
-- its author dated in its minute than the limit, counted across pushes and
-- nodes), or false when it is not held.
local R = req.review
local held_list = {}
local function review_flags(c)
  local who = c.email ~= '' and c.email or c.author
  local bucket = 'j:review:burst:' .. who .. ':' .. c.minute
  local count = redis.call('INCR', bucket)
  redis.call('EXPIRE', bucket, R.burst_ttl)
  if #c.games == 0 then return false end
  local flags = {}
  if count > R.burst_limit then flags[1] = 'burst' end
  for _, flag in ipairs(c.flags) do flags[#flags + 1] = flag end
  if #flags == 0 and not R.hold_all then return false end
  return flags
end
local function hold(ckey, c, seq, flags)
  redis.call('HSET', ckey, 'review', 'held', 'held_games', cjson.encode(c.games),
    'review_flags', #flags > 0 and cjson.encode(flags) or '[]')
  local due = '+inf'
  if #flags == 0 then
    due = string.format('%.6f', R.until_ts)
    redis.call('HSET', ckey, 'review_until', R['until'])
  end
  redis.call('ZADD', 'j:review:held', due, c.hash)
  for _, game in ipairs(c.games) do wait_in_game(game, seq, c.hash) end
  held_list[#held_list + 1] = c.hash
end

for _, c in ipairs(req.commits) do
  local ckey = 'j:commit:' .. c.hash
  if redis.call('EXISTS', ckey) == 0 then
    local seq = redis.call('INCR', 'j:seq')
    local username = false
    -- The e-mail's verified owner; a pending claim (j:email-claims) never scores.
    if c.email ~= '' then username = redis.call('GET', 'j:email:' .. c.email) end
    local members, picture = members_of(slug, username)
    local flags = review_flags(c)
    local scored = (verified and not flags) and c.games or {}
    redis.call('HSET', ckey, 'hash', c.hash, 'url', c.url, 'message', c.message,
      'summary', c.summary, 'timestamp', c.timestamp, 'author', c.author,
      'email', c.email, 'username', username or '', 'project', slug,
      'files', c.files, 'languages', cjson.encode(c.languages),
      'games', #scored > 0 and cjson.encode(scored) or '[]', 'seq', seq,
      'arrived', req.arrived,
      'arrived_ts', string.format('%.6f', req.arrived_ts),
      'future', c.future and '1' or '0', 'pending', verified and '0' or '1')
    -- The author's own UTC offset: the day it counts for in their calendar.
    if c.utc_offset and c.utc_offset ~= '' then
      redis.call('HSET', ckey, 'utc_offset', c.utc_offset)
    end
    redis.call('ZADD', 'j:commits', seq, c.hash)
    redis.call('ZADD', 'j:commits:arrived', string.format('%.6f', req.arrived_ts),
      c.hash)
    redis.call('ZADD', pkey .. ':commits', seq, c.hash)
    if username then
      redis.call('ZADD', 'j:player:' .. username .. ':commits', seq, c.hash)
    elseif c.email ~= '' then
      redis.call('SADD', 'j:orphans:' .. c.email, c.hash)
    end
    if not verified then
      redis.call('HSET', ckey, 'pending_games',
        #c.games > 0 and cjson.encode(c.games) or '[]')
      redis.call('ZADD', pkey .. ':pending', seq, c.hash)
      for _, game in ipairs(c.games) do wait_in_game(game, seq, c.hash) end
      pending[#pending + 1] = c.hash
    end
    if flags then hold(ckey, c, seq, flags) end
    local earned, moves = 0, {}
    for _, game in ipairs(scored) do
      local before = ranks(game, members)
      local points = score_in_game(game, seq, c.hash, members, c.languages)
      if points > earned then earned = points end
      moves[#moves + 1] = {game, before}
    end
    new[#new + 1] = c.hash
    local channels = {'global', 'project:' .. slug}
    if members.people then channels[#channels + 1] = 'player:' .. members.people end
    if members.locations then
      channels[#channels + 1] = 'location:' .. members.locations
    end
    if members.teams then channels[#channels + 1] = 'team:' .. members.teams end
    local entry = {hash = c.hash, url = c.url, message = c.summary,
      timestamp = c.timestamp, author = c.author,
      username = username or cjson.null,
      picture_url = picture or cjson.null, points = earned, project = shown}
    if not verified or flags then entry.pending = true end
    if flags then entry.review = 'held' end
    if members.people then board_channels(members.people, c, channels) end
    feed('commit', entry, channels)
    for _, move in ipairs(moves) do rank_changes(move[1], members, move[2]) end
  end
end

if #published > 0 then
  redis.call('PUBLISH', 'j:live', cjson.encode(published))
end
return cjson.encode({status = 'ok', project = slug, new = new, created = created,
  pending = pending, held = held_list})
