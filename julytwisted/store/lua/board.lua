-- Read a board of a game in one round trip: a page of it, or named members.
--
-- ARGV[1]: JSON {game, board, prefix, offset, limit} for a page, or
--          {game, board, prefix, members = [...]} for chosen members.
--          prefix is the key prefix of the members' own hashes ('' for none).
-- Returns JSON {total = N, rows = [{member, points, rank, commits, projects,
--          pending, fields = {...}}]}; a named member not on the board has
--          points 0 and rank false, and is left out when it has no hash
--          either.  pending: the member's commits waiting for their host's
--          word (or held for review) that would score in the game, as
--          _scoring.lua's wait_in_game and unwait_in_game count them
--          (0 on boards other than people and projects).

local req = cjson.decode(ARGV[1])
local base = 'j:game:' .. req.game
local key = base .. ':board:' .. req.board

local function row(member, score, rank)
  local fields = {}
  if req.prefix ~= '' then
    local flat = redis.call('HGETALL', req.prefix .. member)
    if #flat == 0 and not score then return nil end
    for i = 1, #flat, 2 do fields[flat[i]] = flat[i + 1] end
  end
  return {
    member = member,
    points = score and math.floor(tonumber(score)) or 0,
    rank = rank,
    commits = tonumber(redis.call('HGET', base .. ':count:' .. req.board, member) or '0'),
    projects = redis.call('SCARD', base .. ':projects:' .. req.board .. ':' .. member),
    pending = 0,
    fields = fields,
  }
end

local rows = {}
if req.members then
  for _, member in ipairs(req.members) do
    local score = redis.call('ZSCORE', key, member)
    local rank = false
    if score then rank = redis.call('ZREVRANK', key, member) + 1 end
    local r = row(member, score, rank)
    if r then rows[#rows + 1] = r end
  end
else
  local flat = redis.call('ZREVRANGE', key, req.offset, req.offset + req.limit - 1, 'WITHSCORES')
  for i = 1, #flat, 2 do
    rows[#rows + 1] = row(flat[i], flat[i + 1], req.offset + (i + 1) / 2)
  end
end
-- The rows' pending counts, in one read of the game's counts for the board.
if (req.board == 'people' or req.board == 'projects') and #rows > 0 then
  local names = {}
  for i, r in ipairs(rows) do names[i] = r.member end
  local counts = redis.call('HMGET', base .. ':pending:' .. req.board, unpack(names))
  for i, r in ipairs(rows) do r.pending = tonumber(counts[i] or '0') end
end
return cjson.encode({total = redis.call('ZCARD', key), rows = rows})
