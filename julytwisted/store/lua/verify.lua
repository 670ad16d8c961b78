-- The host's word on one pending commit (see ingest.lua), applied once:
-- verified, it scores in the games its arrival earned it, on the boards of
-- its player now (an orphan adopted meanwhile scores for its new owner), as
-- the ingest would have; rejected, it keeps the reason and never scores.  A
-- commit no longer pending is left alone, so a job run twice changes nothing.
--
-- ARGV[1]: JSON {hash, verdict = "verify" | "reject", reason, commit_points,
--                first_bonus}.
-- Returns JSON {changed = bool, games = [slug...]}: the games it scored in.

local req = cjson.decode(ARGV[1])
COMMIT, BONUS = req.commit_points, req.first_bonus
local ckey = 'j:commit:' .. req.hash
local c = redis.call('HMGET', ckey, 'pending', 'pending_games', 'project',
  'username', 'languages', 'seq')
if c[1] ~= '1' then return cjson.encode({changed = false, games = {}}) end

local games = json_list(c[2])
-- A commit held for review (review.lua) stays provisional once its host
-- knows it, and scores when it is accepted; one rejected never scores.
local review = redis.call('HGET', ckey, 'review')
local held = review == 'held' and req.verdict == 'verify'
for _, game in ipairs(games) do
  if not held then unwait_in_game(game, req.hash) end
end
redis.call('ZREM', 'j:project:' .. c[3] .. ':pending', req.hash)
redis.call('HDEL', ckey, 'pending_games')
if req.verdict ~= 'verify' then
  redis.call('HSET', ckey, 'pending', '0', 'rejected', req.reason)
  return cjson.encode({changed = true, games = {}})
end

if review == 'held' or review == 'rejected' then
  redis.call('HSET', ckey, 'pending', '0')
  return cjson.encode({changed = true, games = {}})
end

local username = false
if c[4] and c[4] ~= '' then username = c[4] end
local members = members_of(c[3], username)
local languages = json_list(c[5])
for _, game in ipairs(games) do
  score_in_game(game, c[6], req.hash, members, languages)
end
redis.call('HSET', ckey, 'pending', '0',
  'games', #games > 0 and cjson.encode(games) or '[]')
return cjson.encode({changed = true, games = games})
