-- Take a commit e-mail off a player, verified or pending, unless it is their
-- last.  Commits already scored with a verified one stay scored; later ones
-- are orphans.  A pending one is a claim withdrawn: its link dies.
--
-- ARGV[1]: JSON {username, email}.
-- Returns "ok", "missing" (not theirs) or "last".

local req = cjson.decode(ARGV[1])
local pkey = 'j:player:' .. req.username
local pending = redis.call('HEXISTS', pkey .. ':pending', req.email) == 1
local verified = redis.call('GET', 'j:email:' .. req.email) == req.username
if not pending and not verified then return 'missing' end
if redis.call('SCARD', pkey .. ':verified') + redis.call('HLEN', pkey .. ':pending') <= 1 then
  return 'last'
end
if pending then
  drop_claim(req.username, req.email)
else
  redis.call('DEL', 'j:email:' .. req.email)
  redis.call('SREM', pkey .. ':verified', req.email)
end
return 'ok'
