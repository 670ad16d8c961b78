-- Verify a commit e-mail for a player: an admin vouches for it (no nonce),
-- or the player's claim is confirmed through the link mailed for it (the
-- nonce of the claim's latest link).  Unless another player has it verified.
--
-- ARGV[1]: JSON {username, email, nonce} (nonce: "" when an admin vouches).
-- Returns JSON {status = "ok" | "missing" | "stale" | "taken" | "unchanged",
-- orphans = N}: stale when the link is not the claim's latest or the claim
-- is gone (confirmed already, withdrawn, or ended by another's verifying).

local req = cjson.decode(ARGV[1])
local pkey = 'j:player:' .. req.username
if redis.call('EXISTS', pkey) == 0 then return cjson.encode({status = 'missing'}) end
local owner = redis.call('GET', 'j:email:' .. req.email)
if req.nonce ~= '' then
  local latest = redis.call('HGET', pkey .. ':pending', req.email)
  if not latest or latest ~= req.nonce then
    return cjson.encode({status = 'stale', orphans = 0})
  end
end
if owner == req.username then return cjson.encode({status = 'unchanged', orphans = 0}) end
if owner then return cjson.encode({status = 'taken', orphans = 0}) end
verify_email(req.username, req.email)
return cjson.encode({status = 'ok', orphans = redis.call('SCARD', 'j:orphans:' .. req.email)})
