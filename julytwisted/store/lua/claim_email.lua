-- Claim a commit e-mail for a player: pending, scoring nothing, until it is
-- confirmed through a mailed link.  Whoever else has it, verified or
-- claimed, is not told and not blocked.
--
-- ARGV[1]: JSON {username, email, most}: most, the pending claims a player
-- may hold at once.
-- Returns "ok", "pending" (claimed already: a new link may be mailed),
-- "verified" (theirs already), "missing" (no such player) or "full".

local req = cjson.decode(ARGV[1])
local pkey = 'j:player:' .. req.username
if redis.call('EXISTS', pkey) == 0 then return 'missing' end
if redis.call('GET', 'j:email:' .. req.email) == req.username then return 'verified' end
if redis.call('HEXISTS', pkey .. ':pending', req.email) == 1 then return 'pending' end
if redis.call('HLEN', pkey .. ':pending') >= req.most then return 'full' end
claim_email(req.username, req.email)
return 'ok'
