-- The projects of a game's board whose watchers fall in [lo, hi), in board
-- order: one page of their names, and how many there are.  Walks the whole
-- board (one HGET a project), so callers keep the answer a few seconds.
--
-- ARGV[1]: JSON {game, lo, hi, offset, limit}; hi < 0 means no upper bound.
-- Returns JSON {total = N, members = [...]}.

local req = cjson.decode(ARGV[1])
local board = redis.call('ZREVRANGE', 'j:game:' .. req.game .. ':board:projects', 0, -1)
local members = {}
local total = 0
for _, member in ipairs(board) do
  local watchers = tonumber(redis.call('HGET', 'j:project:' .. member, 'watchers') or '0') or 0
  if watchers >= req.lo and (req.hi < 0 or watchers < req.hi) then
    total = total + 1
    if total > req.offset and #members < req.limit then
      members[#members + 1] = member
    end
  end
end
return cjson.encode({total = total, members = members})
