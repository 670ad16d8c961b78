-- wrk script for bench/rpc.py: every request POSTs the same JSON-RPC 2.0 body
-- (one call, or a batch) as application/json, built once by wrk.
--
-- Script arguments (after wrk's "--"): the body, and how many results each
-- answer must hold (1 for a single call, 10 for a batch of 10).
-- An answer counts as good when its status is 200, it holds that many
-- "result" members and no "error" member; anything else is bad.
-- At the end one line is printed for bench/rpc.py to read:
--   wrk-result requests=N good=N bad=N last_bad=STATUS duration_us=N ...

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

local expected = 1
good, bad, last_bad = 0, 0, 0

function init(args)
  wrk.method = "POST"
  wrk.body = args[1]
  wrk.headers["Content-Type"] = "application/json"
  expected = tonumber(args[2]) or expected
end

function response(status, headers, body)
  local _, results = string.gsub(body, '"result"', "")
  if status == 200 and results == expected and not string.find(body, '"error"', 1, true) then
    good = good + 1
  else
    bad = bad + 1
    last_bad = status
  end
end

function done(summary, latency, requests)
  local total_good, total_bad, last = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_good = total_good + thread:get("good")
    total_bad = total_bad + thread:get("bad")
    if thread:get("last_bad") ~= 0 then last = thread:get("last_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    "wrk-result requests=%d good=%d bad=%d last_bad=%d duration_us=%d p50_us=%d "
      .. "p99_us=%d max_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, total_good, total_bad, last, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
