-- Every write of a private board, atomic: create, join, leave, remove a
-- member, rotate the join code or the read token, delete.  The keys are
-- those of julytwisted/store/_keys.py (private_board...); each membership
-- lives twice, in the board's members and in the player's boards, and both
-- change together here, and a change of members drops the cached ranking.
-- A member's going, a new read token and a deletion tell every node's live
-- bridge (on j:live, as {revoke = channel}) to close the board's watchers,
-- who were admitted by a membership or a token that may be gone.
--
-- ARGV[1]: JSON {op, ...}; see julytwisted/store/private_boards.py.
-- Returns JSON {status = "ok" | a refusal, ...}.

local req = cjson.decode(ARGV[1])

local function board_key(id) return 'j:pboard:' .. id end
local function members_key(id) return 'j:pboard:' .. id .. ':members' end
local function mine(username) return 'j:player:' .. username .. ':pboards' end
local function owned(username) return 'j:player:' .. username .. ':pboards-owned' end

local function add_member(id, username, at)
  redis.call('ZADD', members_key(id), at, username)
  redis.call('SADD', mine(username), id)
  redis.call('DEL', board_key(id) .. ':standings')
end

local function revoke(id)
  redis.call('PUBLISH', 'j:live', cjson.encode({revoke = 'board:' .. id}))
end

local function drop_member(id, username)
  redis.call('ZREM', members_key(id), username)
  redis.call('SREM', mine(username), id)
  redis.call('DEL', board_key(id) .. ':standings')
  revoke(id)
end

-- The board and whether the asker owns it, or a refusal.
local function owned_board(id, asker)
  local owner = redis.call('HGET', board_key(id), 'owner')
  if not owner then return nil, {status = 'unknown'} end
  if owner ~= asker then return nil, {status = 'forbidden'} end
  return owner, nil
end

local ops = {}

function ops.create()
  if redis.call('EXISTS', 'j:player:' .. req.owner) == 0 then
    return {status = 'no_player'}
  end
  if redis.call('SCARD', owned(req.owner)) >= req.max_owned then
    return {status = 'owned_limit'}
  end
  if redis.call('SCARD', mine(req.owner)) >= req.max_joined then
    return {status = 'joined_limit'}
  end
  if redis.call('EXISTS', board_key(req.id)) == 1 or
     redis.call('EXISTS', 'j:pboard-code:' .. req.code) == 1 then
    return {status = 'collision'}
  end
  redis.call('HSET', board_key(req.id), 'id', req.id, 'name', req.name,
    'owner', req.owner, 'game', req.game, 'start', req.start, 'end', req['end'],
    'start_key', req.start_key, 'end_key', req.end_key, 'cap', req.cap,
    'code', req.code, 'token', req.token, 'created', req.created)
  redis.call('SET', 'j:pboard-code:' .. req.code, req.id)
  redis.call('SADD', owned(req.owner), req.id)
  add_member(req.id, req.owner, req.created)
  return {status = 'ok', id = req.id}
end

function ops.join()
  local id = redis.call('GET', 'j:pboard-code:' .. req.code)
  if not id then return {status = 'unknown_code'} end
  if redis.call('EXISTS', 'j:player:' .. req.username) == 0 then
    return {status = 'no_player'}
  end
  if redis.call('ZSCORE', members_key(id), req.username) then
    return {status = 'ok', id = id, joined = false}
  end
  if redis.call('SCARD', mine(req.username)) >= req.max_joined then
    return {status = 'joined_limit'}
  end
  local cap = tonumber(redis.call('HGET', board_key(id), 'cap')) or 0
  if cap > 0 and redis.call('ZCARD', members_key(id)) >= cap then
    return {status = 'full', cap = cap}
  end
  add_member(id, req.username, req.now)
  return {status = 'ok', id = id, joined = true}
end

function ops.leave()
  local owner = redis.call('HGET', board_key(req.id), 'owner')
  if not owner then return {status = 'unknown'} end
  if owner == req.username then return {status = 'owner'} end
  if not redis.call('ZSCORE', members_key(req.id), req.username) then
    return {status = 'not_member'}
  end
  drop_member(req.id, req.username)
  return {status = 'ok'}
end

function ops.remove()
  local owner, refused = owned_board(req.id, req.asker)
  if refused then return refused end
  if req.member == owner then return {status = 'owner'} end
  if not redis.call('ZSCORE', members_key(req.id), req.member) then
    return {status = 'not_member'}
  end
  drop_member(req.id, req.member)
  return {status = 'ok'}
end

function ops.rotate_code()
  local _, refused = owned_board(req.id, req.asker)
  if refused then return refused end
  if redis.call('EXISTS', 'j:pboard-code:' .. req.code) == 1 then
    return {status = 'collision'}
  end
  local old = redis.call('HGET', board_key(req.id), 'code')
  redis.call('DEL', 'j:pboard-code:' .. old)
  redis.call('SET', 'j:pboard-code:' .. req.code, req.id)
  redis.call('HSET', board_key(req.id), 'code', req.code)
  return {status = 'ok'}
end

function ops.rotate_token()
  local _, refused = owned_board(req.id, req.asker)
  if refused then return refused end
  redis.call('HSET', board_key(req.id), 'token', req.token)
  revoke(req.id)
  return {status = 'ok'}
end

function ops.delete()
  local owner, refused = owned_board(req.id, req.asker)
  if refused then return refused end
  for _, member in ipairs(redis.call('ZRANGE', members_key(req.id), 0, -1)) do
    redis.call('SREM', mine(member), req.id)
  end
  redis.call('SREM', owned(owner), req.id)
  redis.call('DEL', 'j:pboard-code:' .. redis.call('HGET', board_key(req.id), 'code'))
  redis.call('DEL', board_key(req.id), members_key(req.id),
    board_key(req.id) .. ':standings')
  revoke(req.id)
  return {status = 'ok'}
end

local op = ops[req.op]
if not op then return cjson.encode({status = 'bad_op'}) end
return cjson.encode(op())
