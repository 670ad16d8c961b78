-- Create a player with their e-mails, location and team, or report the first
-- conflict and change nothing.  The e-mails are verified (an admin vouches
-- for them) and conflict with another player's verified ones; the claims are
-- pending until confirmed, and conflict with nothing.
--
-- ARGV[1]: JSON {username, name, emails = [...], claims = [...],
--          location = {slug, name} or null, team = {slug, name} or null,
--          approve_team, now, password} (password: the stored hash, or ""
--          for none).
-- Returns JSON {status = "ok"} or {status = "conflict", field, value}.

local req = cjson.decode(ARGV[1])
local pkey = 'j:player:' .. req.username
if redis.call('EXISTS', pkey) == 1 then
  return cjson.encode({status = 'conflict', field = 'username', value = req.username})
end
for _, email in ipairs(req.emails) do
  if redis.call('EXISTS', 'j:email:' .. email) == 1 then
    return cjson.encode({status = 'conflict', field = 'email', value = email})
  end
end

local location, team = '', ''
if req.location ~= cjson.null then
  location = req.location.slug
  redis.call('HSETNX', 'j:location:' .. location, 'name', req.location.name)
  redis.call('HSETNX', 'j:location:' .. location, 'slug', location)
  redis.call('SADD', 'j:location:' .. location .. ':members', req.username)
end
if req.team ~= cjson.null then
  team = req.team.slug
  local tkey = 'j:team:' .. team
  redis.call('HSETNX', tkey, 'name', req.team.name)
  redis.call('HSETNX', tkey, 'slug', team)
  -- approve_team approves a team this creates; approving one that exists
  -- (its members' points recounted) is approve_team.lua's work.
  redis.call('HSETNX', tkey, 'approved', req.approve_team and '1' or '0')
  if redis.call('HGET', tkey, 'approved') ~= '1' then
    redis.call('SADD', 'j:teams:waiting', team)
  end
  redis.call('SADD', tkey .. ':members', req.username)
end

redis.call('HSET', pkey, 'username', req.username, 'name', req.name,
  'location', location, 'team', team, 'picture_url', '', 'created', req.now)
if req.password ~= '' then
  redis.call('HSET', 'j:auth:' .. req.username, 'password', req.password)
end
redis.call('ZADD', 'j:players', redis.call('INCR', 'j:seq:players'), req.username)
for _, email in ipairs(req.emails) do verify_email(req.username, email) end
for _, email in ipairs(req.claims) do
  if redis.call('GET', 'j:email:' .. email) ~= req.username then
    claim_email(req.username, email)
  end
end
return cjson.encode({status = 'ok'})
