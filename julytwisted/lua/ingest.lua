-- One push, applied atomically: store the new commits of a project and score
-- each on every board of every game its own timestamp falls in.  A commit
-- already stored is skipped, so redelivery and racing nodes count it once.
--
-- ARGV[1]: JSON {project, commits, games, now, commit_points, first_bonus,
--                feed_maxlen}; see julytwisted/store.py (Store.ingest).
-- Returns JSON {status = "ok" | "inactive", project = slug, new = [hash...]}.

local req = cjson.decode(ARGV[1])
local P = req.project
COMMIT, BONUS = req.commit_points, req.first_bonus

-- The project: found by its URL; a new one takes its slug, suffixed if taken.
local slug = redis.call('GET', 'j:project-url:' .. P.url)
if not slug then
  slug = P.slug
  local n = 1
  while redis.call('EXISTS', 'j:project:' .. slug) == 1 do
    n = n + 1
    slug = P.slug .. '-' .. n
  end
  redis.call('SET', 'j:project-url:' .. P.url, slug)
  redis.call('HSET', 'j:project:' .. slug, 'slug', slug, 'url', P.url,
    'service', P.service, 'active', '1', 'created', req.now)
end
local pkey = 'j:project:' .. slug
if redis.call('HGET', pkey, 'active') == '0' then
  return cjson.encode({status = 'inactive', project = slug, new = {}})
end
redis.call('HSET', pkey, 'name', P.name, 'description', P.description,
  'watchers', P.watchers, 'forks', P.forks, 'forked', P.forked)

for _, g in ipairs(req.games) do
  if redis.call('ZADD', 'j:games', 'NX', g.start_ts, g.slug) == 1 then
    redis.call('HSET', 'j:game:' .. g.slug, 'slug', g.slug, 'name', g.name,
      'start', g.start, 'end', g['end'])
  end
end

local new, published = {}, {}
-- Each channel's stream keeps its recent history for replay; one message on
-- j:live tells every node's live bridge what was added, ids included.
local function feed(summary, channels)
  local entry, ids = cjson.encode(summary), {}
  for _, channel in ipairs(channels) do
    ids[channel] = redis.call('XADD', 'j:feed:' .. channel, 'MAXLEN', '~',
      req.feed_maxlen, '*', 'commit', entry)
  end
  published[#published + 1] = {commit = summary, ids = ids}
end

for _, c in ipairs(req.commits) do
  local ckey = 'j:commit:' .. c.hash
  if redis.call('EXISTS', ckey) == 0 then
    local seq = redis.call('INCR', 'j:seq')
    local username, location, team = false, false, false
    if c.email ~= '' then username = redis.call('GET', 'j:email:' .. c.email) end
    if username then
      local who = redis.call('HMGET', 'j:player:' .. username, 'location', 'team')
      if who[1] and who[1] ~= '' then location = who[1] end
      if who[2] and who[2] ~= '' and
         redis.call('HGET', 'j:team:' .. who[2], 'approved') == '1' then
        team = who[2]
      end
    end
    redis.call('HSET', ckey, 'hash', c.hash, 'url', c.url, 'message', c.message,
      'timestamp', c.timestamp, 'author', c.author, 'email', c.email,
      'username', username or '', 'project', slug, 'files', c.files,
      'languages', cjson.encode(c.languages), 'games', cjson.encode(c.games),
      'seq', seq)
    redis.call('ZADD', 'j:commits', seq, c.hash)
    redis.call('ZADD', pkey .. ':commits', seq, c.hash)
    if username then
      redis.call('ZADD', 'j:player:' .. username .. ':commits', seq, c.hash)
    elseif c.email ~= '' then
      redis.call('SADD', 'j:orphans:' .. c.email, c.hash)
    end
    local earned = 0
    for _, game in ipairs(c.games) do
      redis.call('ZADD', 'j:game:' .. game .. ':commits', seq, c.hash)
      local points = score(game, 'projects', slug, slug)
      if username then points = score(game, 'people', username, slug) end
      if location then score(game, 'locations', location, slug) end
      if team then score(game, 'teams', team, slug) end
      for _, language in ipairs(c.languages) do
        bump(game, 'languages', language, COMMIT)
        redis.call('HINCRBY', 'j:game:' .. game .. ':count:languages', language, 1)
      end
      if points > earned then earned = points end
    end
    new[#new + 1] = c.hash
    local channels = {'global', 'project:' .. slug}
    if username then channels[#channels + 1] = 'player:' .. username end
    if location then channels[#channels + 1] = 'location:' .. location end
    if team then channels[#channels + 1] = 'team:' .. team end
    feed({hash = c.hash, url = c.url, message = c.summary, timestamp = c.timestamp,
      username = username or cjson.null, points = earned,
      project = {slug = slug, name = P.name, url = P.url}}, channels)
  end
end

if #published > 0 then
  redis.call('PUBLISH', 'j:live', cjson.encode(published))
end
return cjson.encode({status = 'ok', project = slug, new = new})
