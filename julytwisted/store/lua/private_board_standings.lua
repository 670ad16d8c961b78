-- A private board's ranking, computed from what the boards of its game are
-- rebuilt from: each member's commit index, each commit's own time, and the
-- game's commits (which a recount keeps, dropping a commit that no longer
-- scores there).  A commit counts when it is in the game, is still its
-- member's (adoptions and moves are read as they are now), and its own time
-- falls in the board's dates.  The board is scored as a game of its own:
-- 1 point a commit, and the bonus for a member's first commit on each
-- project inside the dates.  Ties go to whoever reached their points first
-- (the earlier arrival of their last counted commit).
--
-- The answer is kept cache_seconds (0: not kept), and a kept one is
-- returned as it is unless fresh is asked for; joins and leaves drop it.
--
-- ARGV[1]: JSON {id, commit_points, first_bonus, cache_seconds, fresh}.
-- Returns the JSON text of the board with its standings, or "" for none.

local req = cjson.decode(ARGV[1])
local bkey = 'j:pboard:' .. req.id
local cache = bkey .. ':standings'
if not req.fresh then
  local kept = redis.call('GET', cache)
  if kept then return kept end
end
local b = redis.call('HMGET', bkey, 'name', 'owner', 'game', 'start', 'end',
  'start_key', 'end_key', 'cap')
if not b[1] then return '' end
local gkey = 'j:game:' .. b[3] .. ':commits'

-- An ISO 8601 UTC time as the store writes it, in a form that sorts as
-- the instants do: the seconds, then the fraction padded to microseconds.
local function sortable(ts)
  local frac = string.match(ts, '%.(%d+)') or ''
  return string.sub(ts, 1, 19) .. string.sub(frac .. '000000', 1, 6)
end

local rows = {}
for _, username in ipairs(redis.call('ZRANGE', bkey .. ':members', 0, -1)) do
  local row = {username = username, points = 0, commits = 0, projects = 0,
    reached = 0}
  local seen = {}
  for _, hash in ipairs(redis.call('ZRANGE', 'j:player:' .. username .. ':commits',
                                   0, -1)) do
    local c = redis.call('HMGET', 'j:commit:' .. hash, 'timestamp', 'project',
      'seq', 'username')
    if c[1] and c[4] == username and redis.call('ZSCORE', gkey, hash) then
      local at = sortable(c[1])
      if at >= b[6] and at < b[7] then
        row.commits = row.commits + 1
        row.points = row.points + req.commit_points
        if not seen[c[2]] then
          seen[c[2]] = true
          row.projects = row.projects + 1
          row.points = row.points + req.first_bonus
        end
        local seq = tonumber(c[3]) or 0
        if seq > row.reached then row.reached = seq end
      end
    end
  end
  local who = redis.call('HMGET', 'j:player:' .. username, 'name', 'picture_url')
  row.name = (who[1] and who[1] ~= '') and who[1] or username
  row.picture_url = who[2] or ''
  rows[#rows + 1] = row
end

table.sort(rows, function(x, y)
  if x.points ~= y.points then return x.points > y.points end
  if x.reached ~= y.reached then return x.reached < y.reached end
  return x.username < y.username
end)
for i, row in ipairs(rows) do
  row.rank = i
  row.reached = nil
end

local answer = cjson.encode({id = req.id, name = b[1], owner = b[2], game = b[3],
  start = b[4], ['end'] = b[5], cap = tonumber(b[8]) or 0, members = #rows,
  standings = rows})
if req.cache_seconds > 0 then
  redis.call('SET', cache, answer, 'EX', req.cache_seconds)
end
return answer
