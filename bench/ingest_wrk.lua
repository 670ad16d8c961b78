-- wrk script for bench/ingest.py: every request is a GitHub push webhook of
-- fresh commits (distinct 40-hex ids per thread and request) by ada, whose
-- timestamps fall in July 2026 so that every commit scores.
--
-- Script arguments (after wrk's "--"): commits per push.
-- At the end one line is printed for bench/ingest.py to read:
--   wrk-result created=N other=N last_other=STATUS duration_us=N p50_us=N ...

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  threads[#threads + 1] = thread
end

local PREFIX = '{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000001",'
  .. '"created":false,"deleted":false,"forced":false,"commits":['
local REPOSITORY = '"repository":{"id":1,"name":"engine","full_name":"ada/engine",'
  .. '"html_url":"https://github.com/ada/engine","url":"https://github.com/ada/engine",'
  .. '"description":"an engine","fork":false,"watchers_count":3,"stargazers_count":3,'
  .. '"forks_count":1,"owner":{"login":"ada","name":"ada","email":"ada@example.com"}},'
  .. '"pusher":{"name":"ada","email":"ada@example.com"}}'
local PERSON = '{"name":"Ada","email":"ada@example.com","username":"ada"}'
local HEADERS = {["Content-Type"] = "application/json", ["X-GitHub-Event"] = "push"}

local per_push = 20
local pushes = 0
created, other, last_other = 0, 0, 0

function init(args)
  per_push = tonumber(args[1]) or per_push
end

local function commit(id, i)
  return '{"id":"' .. id .. '","distinct":true,"message":"bench commit ' .. i
    .. '","timestamp":"2026-07-10T09:' .. string.format("%02d:%02d", 30 + i % 30, i % 60)
    .. '+00:00","url":"https://github.com/ada/engine/commit/' .. id
    .. '","author":' .. PERSON .. ',"committer":' .. PERSON
    .. ',"added":["main.py"],"removed":[],"modified":["README.md"]}'
end

function request()
  pushes = pushes + 1
  local commits, id = {}, nil
  for i = 1, per_push do
    id = string.format("%08x%012x%04x%016x", tid, pushes, i, 0)
    commits[i] = commit(id, i)
  end
  local listed = table.concat(commits, ",")
  local body = PREFIX .. listed .. '],"after":"' .. id .. '","head_commit":'
    .. commits[per_push] .. ',' .. REPOSITORY
  return wrk.format("POST", "/api/v1/github", HEADERS, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
    last_other = status
  end
end

function done(summary, latency, requests)
  local total_created, total_other, last = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_created = total_created + thread:get("created")
    total_other = total_other + thread:get("other")
    if thread:get("last_other") ~= 0 then last = thread:get("last_other") end
  end
  local e = summary.errors
  io.write(string.format(
    "wrk-result created=%d other=%d last_other=%d duration_us=%d p50_us=%d "
      .. "p99_us=%d max_us=%d connect=%d read=%d write=%d timeout=%d\n",
    total_created, total_other, last, summary.duration, latency:percentile(50),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout))
end
