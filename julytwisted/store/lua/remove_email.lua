-- Take a commit e-mail off a player, unless it is their last.  Commits
-- already scored with it stay scored; later ones are orphans.
--
-- ARGV[1]: JSON {username, email}.
-- Returns "ok", "missing" (not theirs) or "last".

local req = cjson.decode(ARGV[1])
local emails = 'j:player:' .. req.username .. ':emails'
if redis.call('GET', 'j:email:' .. req.email) ~= req.username then return 'missing' end
if redis.call('SCARD', emails) <= 1 then return 'last' end
redis.call('DEL', 'j:email:' .. req.email)
redis.call('SREM', emails, req.email)
return 'ok'
