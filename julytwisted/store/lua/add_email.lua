-- Give a player another commit e-mail, unless another player has it.
--
-- ARGV[1]: JSON {username, email}.
-- Returns JSON {status = "ok" | "missing" | "taken" | "unchanged", orphans = N}.

local req = cjson.decode(ARGV[1])
local pkey = 'j:player:' .. req.username
if redis.call('EXISTS', pkey) == 0 then return cjson.encode({status = 'missing'}) end
local owner = redis.call('GET', 'j:email:' .. req.email)
if owner == req.username then return cjson.encode({status = 'unchanged', orphans = 0}) end
if owner then return cjson.encode({status = 'taken', orphans = 0}) end
redis.call('SET', 'j:email:' .. req.email, req.username)
redis.call('SADD', pkey .. ':emails', req.email)
return cjson.encode({status = 'ok', orphans = redis.call('SCARD', 'j:orphans:' .. req.email)})
