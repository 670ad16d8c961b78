-- Record one upload's files for a player, within the player's quota, or
-- change nothing.
--
-- ARGV[1]: JSON {username, quota, now, url_prefix, files = [{sha256, size,
--          content_type, filename, kind, project}]}; every file of one upload
--          shares its kind and project.
-- A file counts against the quota once per player, however often uploaded.
-- Returns JSON {status = "ok"}, {status = "missing", what, value} or
-- {status = "over_quota", used, needed}.

local req = cjson.decode(ARGV[1])
local pkey = 'j:player:' .. req.username
if redis.call('EXISTS', pkey) == 0 then
  return cjson.encode({status = 'missing', what = 'player', value = req.username})
end
local first = req.files[1]
if first.project ~= '' and redis.call('EXISTS', 'j:project:' .. first.project) == 0 then
  return cjson.encode({status = 'missing', what = 'project', value = first.project})
end

local used = tonumber(redis.call('GET', pkey .. ':upload_bytes') or '0')
local needed, charged = 0, {}
for _, f in ipairs(req.files) do
  if not charged[f.sha256] and redis.call('SISMEMBER', pkey .. ':files', f.sha256) == 0 then
    charged[f.sha256] = true
    needed = needed + f.size
  end
end
if used + needed > req.quota then
  return cjson.encode({status = 'over_quota', used = used, needed = needed})
end

for _, f in ipairs(req.files) do
  local fkey = 'j:file:' .. f.sha256
  if redis.call('EXISTS', fkey) == 0 then
    redis.call('HSET', fkey, 'sha256', f.sha256, 'size', f.size,
      'content_type', f.content_type, 'created', req.now, 'uploader', req.username)
  end
  redis.call('SADD', pkey .. ':files', f.sha256)
  local id = redis.call('INCR', 'j:seq:uploads')
  redis.call('HSET', 'j:upload:' .. id, 'sha256', f.sha256, 'uploader', req.username,
    'kind', f.kind, 'project', f.project, 'filename', f.filename, 'time', req.now)
  redis.call('ZADD', pkey .. ':uploads', id, id)
  if f.kind == 'screenshot' then
    redis.call('ZADD', 'j:project:' .. f.project .. ':screenshots', 'NX', id, f.sha256)
  elseif f.kind == 'avatar' then
    redis.call('HSET', pkey, 'picture_url', req.url_prefix .. f.sha256)
  end
end
redis.call('INCRBY', pkey .. ':upload_bytes', needed)
return cjson.encode({status = 'ok'})
