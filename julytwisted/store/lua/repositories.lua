-- The registry of repositories players added, changed atomically: adding one
-- (and claiming or making its project), binding a hand-added one to the id
-- its first signed push names, keeping the host token its owner gave (sealed),
-- and removing one.
--
-- ARGV[1]: JSON {op = "add" | "bind" | "hook" | "token" | "remove",
-- keys = {...}, ...}; see
-- julytwisted/store/repositories.py.  Every key comes from Python except the
-- project hashes, named by keys.project (the prefix) and their slug.  A record
-- holds the keys of its own indexes (id_key, url_key, index), so that it can
-- be dropped whoever added it.
-- Returns JSON {status = "ok" | "mine" | "taken" | "full" | "gone", ...}.

local R = cjson.decode(ARGV[1])
local K = R.keys

local function fields(key)
  local flat = redis.call('HGETALL', key)
  local f = {}
  for i = 1, #flat, 2 do f[flat[i]] = flat[i + 1] end
  return f
end

local function drop(rid, f)
  if f.id_key ~= '' and redis.call('GET', f.id_key) == rid then
    redis.call('DEL', f.id_key)
  end
  if redis.call('GET', f.url_key) == rid then redis.call('DEL', f.url_key) end
  redis.call('ZREM', f.index, rid)
  redis.call('DEL', K.record_prefix .. rid)
  if f.project ~= '' then
    redis.call('HDEL', K.project .. f.project, 'registered')
  end
end

-- The project of a repository: the one its id names, else the one its URL
-- names (unless that is another repository's), else a new one.
local function project(host, id, url, name, P)
  local slug = false
  if id ~= '' then slug = redis.call('GET', K.repo_project) end
  if not slug then
    slug = redis.call('GET', K.project_url)
    if slug then
      local other = redis.call('HGET', K.project .. slug, 'host_id')
      if other and other ~= '' and other ~= id then slug = false end
    end
  end
  if not slug then
    slug = R.slug
    local n = 1
    while redis.call('EXISTS', K.project .. slug) == 1 do
      n = n + 1
      slug = R.slug .. '-' .. n
    end
    redis.call('HSET', K.project .. slug, 'slug', slug, 'service', host,
      'active', '1', 'created', R.now, 'name', name, 'description', '',
      'watchers', 0, 'forks', 0, 'forked', '0')
  end
  local pkey = K.project .. slug
  redis.call('SET', K.project_url, slug)
  if id ~= '' then
    redis.call('SET', K.repo_project, slug)
    redis.call('HSET', pkey, 'host_id', id)
  end
  redis.call('HSET', pkey, 'url', url, 'registered', '1')
  if P then
    redis.call('HSET', pkey, 'name', P.name, 'description', P.description,
      'watchers', P.watchers, 'forks', P.forks, 'forked', P.forked)
  end
  return slug
end

local function lapsed(f)
  return f.proof == '' and tonumber(f.lapses or '0') <= R.now_ts
end

-- Whether a record found under an index lets the new one in: nil when it
-- does (dropped, or stale), else the answer refusing it.
local function settle(rid, index, by_url, A)
  local f = fields(K.record_prefix .. rid)
  if f.owner == nil then
    redis.call('DEL', index)
  elseif lapsed(f) then
    drop(rid, f)
  elseif by_url and f.id ~= '' and A.id ~= '' and f.id ~= A.id then
    -- The address moved to another repository: it names this one now.
    redis.call('DEL', index)
  elseif f.owner == A.owner then
    return {status = 'mine', key = rid}
  elseif f.proof == '' and A.proof == 'host' then
    drop(rid, f)
  else
    return {status = 'taken', owner = f.owner, proof = f.proof,
      lapses = f.lapses or ''}
  end
  return nil
end

if R.op == 'add' then
  local A = R.record
  for _, where in ipairs({{K.id_key, false}, {K.url_key, true}}) do
    local rid = where[1] ~= '' and redis.call('GET', where[1])
    if rid then
      local refused = settle(rid, where[1], where[2], A)
      if refused then return cjson.encode(refused) end
    end
  end
  if redis.call('ZCARD', K.index) >= R.most then
    return cjson.encode({status = 'full'})
  end
  local slug = ''
  if A.proof ~= '' then
    slug = project(A.host, A.id, A.url, A.name, R.project)
  end
  redis.call('HSET', K.record_prefix .. R.key, 'host', A.host, 'id', A.id,
    'url', A.url, 'path', A.path, 'owner', A.owner, 'secret', A.secret,
    'token', A.token, 'hook', '', 'project', slug, 'created', A.created, 'proof', A.proof,
    'lapses', A.lapses, 'id_key', K.id_key, 'url_key', K.url_key,
    'index', K.index)
  if K.id_key ~= '' then redis.call('SET', K.id_key, R.key) end
  redis.call('SET', K.url_key, R.key)
  redis.call('ZADD', K.index, A.created_ts, R.key)
  return cjson.encode({status = 'ok', key = R.key, project = slug})
end

local rkey = K.record_prefix .. R.key
local f = fields(rkey)
if f.owner == nil then return cjson.encode({status = 'gone'}) end

if R.op == 'bind' then
  if f.id == '' and R.id ~= '' then
    local other = redis.call('GET', K.id_key)
    if other and other ~= R.key then
      return cjson.encode({status = 'taken', owner = ''})
    end
    redis.call('SET', K.id_key, R.key)
    redis.call('HSET', rkey, 'id', R.id, 'id_key', K.id_key)
    f.id = R.id
  end
  if f.proof == '' then redis.call('HSET', rkey, 'proof', 'push') end
  local slug = f.project
  if slug == '' or f.id == R.id then
    slug = project(f.host, f.id, f.url, R.name, false)
    redis.call('HSET', rkey, 'project', slug)
  end
  return cjson.encode({status = 'ok', key = R.key, project = slug})
end

if R.op == 'hook' then
  redis.call('HSET', rkey, 'hook', R.hook)
  return cjson.encode({status = 'ok', key = R.key})
end

if R.op == 'token' then
  if f.owner ~= R.owner then return cjson.encode({status = 'gone'}) end
  if R.token == '' then
    redis.call('HDEL', rkey, 'token')
  else
    redis.call('HSET', rkey, 'token', R.token)
  end
  return cjson.encode({status = 'ok', key = R.key})
end

-- remove
if f.owner ~= R.owner then return cjson.encode({status = 'gone'}) end
drop(R.key, f)
return cjson.encode({status = 'ok', key = R.key, project = f.project})
