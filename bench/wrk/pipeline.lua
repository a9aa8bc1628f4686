-- wrk script for bench/run.mjs's peers scenario: HTTP/1.1 pipelining. Each write sends
-- BENCH_WRK_PIPELINE (default 16) copies of the request at once; wrk reads the answers
-- and counts each one as a request. The totals and latency percentiles are printed by
-- report.lua's done() (the same BENCH_JSON line), which this script loads.
-- Run from the project's root (bench/run.mjs does): the path below is relative to it.
dofile("bench/wrk/report.lua")

local depth = tonumber(os.getenv("BENCH_WRK_PIPELINE") or "16") or 16
local batch

function init(args)
  local one = wrk.format(nil, wrk.path)
  local parts = {}
  for i = 1, depth do parts[i] = one end
  batch = table.concat(parts)
end

function request()
  return batch
end
