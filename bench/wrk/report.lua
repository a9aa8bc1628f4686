-- wrk script for bench/run.mjs: optionally turns the request into a POST with a body
-- of BENCH_WRK_BODY_BYTES bytes, and at the end prints one machine-readable line:
--   BENCH_JSON {...}
-- with the totals, the error counts and the latency percentiles (microseconds).
-- No request()/response() callbacks: those would slow wrk down.

local body_bytes = tonumber(os.getenv("BENCH_WRK_BODY_BYTES") or "0") or 0
if body_bytes > 0 then
  wrk.method = "POST"
  wrk.body = string.rep("x", body_bytes)
  wrk.headers["Content-Type"] = "application/octet-stream"
end

function done(summary, latency, requests)
  local e = summary.errors
  local function p(q) return latency:percentile(q) end
  io.write(string.format(
    'BENCH_JSON {"duration_us":%d,"requests":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%.0f,"mean":%.2f,"stdev":%.2f,"max":%.0f,"p50":%.0f,"p90":%.0f,"p99":%.0f,"p99_9":%.0f},' ..
    '"rate":{"mean":%.2f,"stdev":%.2f,"min":%.0f,"max":%.0f}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max, p(50), p(90), p(99), p(99.9),
    requests.mean, requests.stdev, requests.min, requests.max))
end
