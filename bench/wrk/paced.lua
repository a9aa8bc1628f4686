-- wrk script for bench/run.mjs's peers scenario: a paced load. Before each request a
-- connection waits a random time, uniform from 0 to 2 * BENCH_WRK_PACE_MS milliseconds,
-- so that N connections together offer about N * 1000 / BENCH_WRK_PACE_MS requests a
-- second, whatever the server's speed; the latency is counted from the request's write.
-- The first BENCH_WRK_CONNECTIONS requests (one a connection: wrk connects them all at
-- once, and each one's first request waits like the others) wait BENCH_WRK_SETTLE_MS
-- more, so that no request is timed while the server is still accepting the connections:
-- the percentiles are the steady load's, not the connect storm's. The count is the wrk
-- thread's own, so the script wants -t1 (bench/lib/load.mjs runs wrk so); a connection
-- that connects later than the settle (a SYN dropped by a full accept queue) has its
-- first request timed like the others, and another's second request waits instead.
-- The random sequence is the same in every run, so every server is offered the same load.
-- The totals and latency percentiles are printed by report.lua's done(), which this
-- script loads (run from the project's root, as bench/run.mjs does).
dofile("bench/wrk/report.lua")

local pace_ms = tonumber(os.getenv("BENCH_WRK_PACE_MS") or "50") or 50
local settle_ms = tonumber(os.getenv("BENCH_WRK_SETTLE_MS") or "0") or 0
local first = tonumber(os.getenv("BENCH_WRK_CONNECTIONS") or "0") or 0

function delay()
  if first > 0 then
    first = first - 1
    return settle_ms + math.random(0, 2 * pace_ms)
  end
  return math.random(0, 2 * pace_ms)
end
