// The load generators, each in a process of its own pinned to the load generator's CPU:
// autocannon (bench/lib/autocannon-worker.mjs) and wrk (bench/wrk/report.lua's JSON).
// Each resolves { ok, rps, latencyMs, errors, non2xx, ... } or { ok: false, error }.
import { describeExit, pinned, runToEnd } from './children.mjs';
import { settings, wrkPath } from './settings.mjs';

export async function runAutocannon(url, scenario, seconds, cpu) {
  const opts = { url, connections: settings.connections, duration: seconds, method: scenario.method, bodyBytes: scenario.bodyBytes };
  const [file, args] = pinned(cpu, process.execPath, ['bench/lib/autocannon-worker.mjs', JSON.stringify(opts)]);
  const r = await runToEnd(file, args, { timeoutMs: (seconds + 60) * 1000 });
  let out;
  try {
    out = JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return { ok: false, error: `autocannon gave no result (${describeExit(r)}): ${r.stderr.trim().slice(-500)}` };
  }
  const reqs = out.requests ?? {};
  return {
    ok: true,
    rps: reqs.average,
    rpsStdevPct: reqs.average ? (100 * (reqs.stddev ?? 0)) / reqs.average : undefined,
    rpsMin: reqs.min,
    rpsMax: reqs.max,
    requests: out['2xx'] + out.non2xx,
    durationS: out.duration,
    latencyMs: {
      p50: out.latency.p50,
      p90: out.latency.p90,
      p99: out.latency.p99,
      p99_9: out.latency.p99_9,
      mean: out.latency.mean,
      max: out.latency.max,
    },
    errors: out.errors,
    timeouts: out.timeouts,
    non2xx: out.non2xx,
    resets: out.resets,
    mismatches: out.mismatches,
    statusCodes: out.statusCodeStats,
    bytesPerSec: out.throughput?.average,
    stderr: r.stderr.trim() || undefined,
  };
}

/** wrk -t1; opts (the peers scenario): connections, script (default report.lua), env. */
export async function runWrk(url, scenario, seconds, cpu, opts = {}) {
  const args = ['-t1', `-c${opts.connections ?? settings.connections}`, `-d${seconds}s`, '-s', opts.script ?? 'bench/wrk/report.lua', url];
  const [file, argv] = pinned(cpu, wrkPath, args);
  const env = { BENCH_WRK_BODY_BYTES: String(scenario.bodyBytes || 0), ...opts.env };
  const r = await runToEnd(file, argv, { env, timeoutMs: (seconds + 60) * 1000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) return { ok: false, error: `wrk gave no result (${describeExit(r)}): ${(r.stderr + r.stdout).trim().slice(-500)}` };
  const w = JSON.parse(line.slice('BENCH_JSON '.length));
  const durationS = w.duration_us / 1e6;
  const e = w.errors;
  const ms = (us) => us / 1000;
  return {
    ok: true,
    rps: w.requests / durationS,
    rpsStdevPct: w.rate.mean ? (100 * w.rate.stdev) / w.rate.mean : undefined,
    rpsMin: w.rate.min,
    rpsMax: w.rate.max,
    requests: w.requests,
    durationS,
    latencyMs: {
      p50: ms(w.latency_us.p50),
      p90: ms(w.latency_us.p90),
      p99: ms(w.latency_us.p99),
      p99_9: ms(w.latency_us.p99_9),
      mean: ms(w.latency_us.mean),
      max: ms(w.latency_us.max),
    },
    // wrk's socket errors; its "status" errors are responses with a status >= 400.
    errors: e.connect + e.read + e.write + e.timeout,
    errorDetail: e,
    timeouts: e.timeout,
    non2xx: e.status,
    bytesPerSec: w.bytes / durationS,
    stderr: r.stderr.trim() || undefined,
  };
}

export const TOOLS = {
  autocannon: runAutocannon,
  wrk: runWrk,
};
