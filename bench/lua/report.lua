-- Shared by every wrk script here: at the end of a run, print one line that run.py parses.
-- Latencies are in microseconds; "status" counts responses with a status of 400 or more.
-- "curve" is the latency at each percentile (every 1 % to 90, every 0.1 % to 99.9, then
-- 99.95, 99.99 and 100): run.py merges the curves of a row's rounds into the p50 and p99 of
-- all its requests (wrk's Lua cannot read its histogram itself).
local function curve(latency)
  local points = {}
  local function add(p)
    points[#points + 1] = string.format("[%g,%.0f]", p, latency:percentile(p))
  end
  for p = 1, 89 do add(p) end
  for tenth = 900, 999 do add(tenth / 10) end
  add(99.95); add(99.99); add(100)
  return "[" .. table.concat(points, ",") .. "]"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,' ..
    '"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f,' ..
    '"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"max_us":%.0f,"mean_us":%.1f,"curve":%s}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, curve(latency)))
end
