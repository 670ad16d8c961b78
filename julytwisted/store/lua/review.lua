-- One step of a commit's review (see julytwisted/store/review.py), applied
-- once: a second accept, release or reject of the same commit changes
-- nothing.
--
--   accept:  an admin lets it count.  A held commit scores in the games its
--            arrival earned it (held_games), for its player now, unless its
--            host's word is still awaited (verify.lua scores it then) or
--            was a refusal.  A commit counting already stays as it is.
--   release: the same, by the review days, for a held commit whose time
--            has come (its score in j:review:held is at most at_ts).
--   reject:  an admin refuses it with a reason: it never scores; the games
--            it scored in are returned, for their recount.
--   report:  a player asks admins to look at it: once per player and
--            commit, at most report_limit a window per player.
--
-- ARGV[1]: JSON {action, hash, by, reason, at, at_ts, log_length,
--                report_limit, report_window, commit_points, first_bonus}.
-- Returns JSON {status = "ok" | "unchanged" | "missing" | "rejected" |
--               "limited" | "again", games = [slug...], retry_after = s}.

local req = cjson.decode(ARGV[1])
COMMIT, BONUS = req.commit_points, req.first_bonus
local hash = req.hash
local ckey = 'j:commit:' .. hash
local c = redis.call('HMGET', ckey, 'hash', 'review', 'held_games', 'pending',
  'rejected', 'project', 'username', 'languages', 'seq', 'games', 'review_by',
  'pending_games')
if not c[1] then return cjson.encode({status = 'missing', games = {}}) end
local state = c[2] or ''

local function answer(status, games)
  return cjson.encode({status = status, games = games or {}})
end

local function log(action, reason)
  local entry = cjson.encode({hash = hash, action = action, by = req.by,
    at = req.at, reason = reason})
  redis.call('LPUSH', ckey .. ':review-log', entry)
  redis.call('LTRIM', ckey .. ':review-log', 0, req.log_length - 1)
  redis.call('LPUSH', 'j:review:log', entry)
  redis.call('LTRIM', 'j:review:log', 0, req.log_length - 1)
end

local function unqueue()
  redis.call('ZREM', 'j:review:held', hash)
  redis.call('ZREM', 'j:review:reported', hash)
end

-- Its games no longer wait for it (board.lua shows those as pending).
local function unwait(games)
  for _, game in ipairs(games) do unwait_in_game(game, hash) end
end

local function accept(by)
  if state == 'rejected' then return answer('rejected') end
  local scored = {}
  if state == 'held' then
    local games = json_list(c[3])
    local unverified = c[4] == '1'
    local refused = c[5] and c[5] ~= ''
    if not unverified then unwait(games) end
    if not unverified and not refused then
      local username = false
      if c[7] and c[7] ~= '' then username = c[7] end
      local members = members_of(c[6], username)
      local languages = json_list(c[8])
      for _, game in ipairs(games) do
        score_in_game(game, c[9], hash, members, languages)
      end
      redis.call('HSET', ckey, 'games', #games > 0 and cjson.encode(games) or '[]')
      scored = games
    end
    redis.call('HDEL', ckey, 'held_games')
  elseif state == 'accepted' and c[11] == by then
    if redis.call('ZSCORE', 'j:review:reported', hash) == false then
      return answer('unchanged')
    end
  end
  redis.call('HSET', ckey, 'review', 'accepted', 'review_by', by)
  unqueue()
  log(by == 'admin' and 'accept' or 'release', cjson.null)
  return answer('ok', scored)
end

if req.action == 'accept' then return accept('admin') end

if req.action == 'release' then
  local due = redis.call('ZSCORE', 'j:review:held', hash)
  -- A flagged or reported commit's '+inf' is never due.
  local at = due and tonumber(due)
  if state ~= 'held' or not at or at > req.at_ts then
    return answer('unchanged')
  end
  return accept('days')
end

if req.action == 'reject' then
  if state == 'rejected' then return answer('unchanged') end
  unwait(json_list(c[3]))
  unwait(json_list(c[12]))
  local recount = {}
  if state ~= 'held' then recount = json_list(c[10]) end
  redis.call('HSET', ckey, 'review', 'rejected', 'review_reason', req.reason,
    'review_by', 'admin')
  redis.call('HDEL', ckey, 'held_games')
  unqueue()
  log('reject', req.reason)
  return answer('ok', recount)
end

-- report
if state == 'rejected' then return answer('rejected') end
local reports = ckey .. ':reports'
if redis.call('HEXISTS', reports, req.by) == 1 then return answer('again') end
local budget = 'j:review:reporter:' .. req.by
local used = redis.call('INCR', budget)
if used == 1 then redis.call('EXPIRE', budget, req.report_window) end
if used > req.report_limit then
  return cjson.encode({status = 'limited', games = {},
    retry_after = math.max(redis.call('TTL', budget), 1)})
end
redis.call('HSET', reports, req.by, req.reason)
redis.call('HINCRBY', ckey, 'reports', 1)
-- An admin's acceptance stands; anything else waits for one now.
if not (state == 'accepted' and c[11] == 'admin') then
  redis.call('ZADD', 'j:review:reported', 'NX', req.at_ts, hash)
  if state == 'held' then
    redis.call('ZADD', 'j:review:held', 'XX', '+inf', hash)
    redis.call('HDEL', ckey, 'review_until')
  end
end
log('report', req.reason)
return answer('ok')
