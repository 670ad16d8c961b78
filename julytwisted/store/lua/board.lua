-- Read a board of a game in one round trip: a page of it, or named members.
--
-- ARGV[1]: JSON {game, board, prefix, offset, limit} for a page, or
--          {game, board, prefix, members = [...]} for chosen members.
--          prefix is the key prefix of the members' own hashes ('' for none).
-- Returns JSON {total = N, rows = [{member, points, rank, commits, projects,
--          pending, fields = {...}}]}; a named member not on the board has
--          points 0 and rank false, and is left out when it has no hash
--          either.  pending: the member's commits waiting for their host's
--          word that would score in the game.

local req = cjson.decode(ARGV[1])
local base = 'j:game:' .. req.game
local key = base .. ':board:' .. req.board

-- Commits waiting for their host's word (verify.lua) that would score in
-- this game, by player or by project: few, and gone within seconds.
local waiting = {}
local owner_field = ({people = 'username', projects = 'project'})[req.board]
if owner_field then
  for _, hash in ipairs(redis.call('ZRANGE', base .. ':pending', 0, -1)) do
    local owner = redis.call('HGET', 'j:commit:' .. hash, owner_field)
    if owner and owner ~= '' then waiting[owner] = (waiting[owner] or 0) + 1 end
  end
end

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
    pending = waiting[member] or 0,
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
return cjson.encode({total = redis.call('ZCARD', key), rows = rows})
