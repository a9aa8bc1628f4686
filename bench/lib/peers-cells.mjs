// The peers scenario's cells (bench/lib/peers-scenario.mjs): the requests it loads each
// server with, what each must be answered, one checking request, and one wrk load of a
// cell (plain, pipelined with bench/wrk/pipeline.lua, or paced with bench/wrk/paced.lua).
import { rawRequest } from './http-check.mjs';

const HELLO = Buffer.from('Hello, World!\n');
const X = (n) => Buffer.alloc(n, 'x');

// What each route answers (bench/apps/peers.ts), as the bench checks it.
const HELLO_EXPECT = { body: HELLO, contentType: 'text/plain', contentLength: '14' };
const octets = (n) => ({ body: X(n), contentType: 'application/octet-stream', contentLength: String(n) });

/** The cells: one wrk load each, against every server that serves it. */
export const PEER_CELLS = [
  { name: 'hello c50', path: '/', connections: 50, expect: HELLO_EXPECT, nginx: true },
  { name: 'hello c1000', path: '/', connections: 1000, expect: HELLO_EXPECT, nginx: true },
  { name: 'hello c1000 paced', path: '/', connections: 1000, paced: true, expect: HELLO_EXPECT, nginx: true },
  { name: 'hello pipelined 16 c50', path: '/', connections: 50, pipeline: 16, expect: HELLO_EXPECT, nginx: true },
  { name: '64 KiB response c50', path: '/64k', connections: 50, expect: octets(64 * 1024) },
  { name: '4 KiB POST echoed c50', path: '/echo', connections: 50, bodyBytes: 4096, expect: octets(4096) },
  { name: '10 KiB response c50', path: '/10k', connections: 50, expect: octets(10 * 1024), granian: true },
  { name: '10 KiB echo, 4 KiB reads c50', path: '/echo-4k', connections: 50, bodyBytes: 10 * 1024, expect: octets(10 * 1024), granian: true },
  { name: 'await 10 ms c512', path: '/sleep', connections: 512, expect: HELLO_EXPECT, granian: true },
];

/** One raw request for a cell; the list of problems with the answer (empty: right). */
export async function check(ctx, cell, port) {
  try {
    const res = await rawRequest({
      host: ctx.host,
      port,
      method: cell.bodyBytes ? 'POST' : 'GET',
      path: cell.path,
      headers: cell.bodyBytes ? { 'Content-Type': 'application/octet-stream' } : {},
      body: cell.bodyBytes ? 'x'.repeat(cell.bodyBytes) : undefined,
      timeoutMs: 10000,
    });
    return { problems: ctx.checkResponse({ expect: cell.expect }, res), headBytes: res.headBytes };
  } catch (err) {
    return { problems: [`no answer: ${err.message}`] };
  }
}

/** The pause before each request of a paced cell, in ms: connections * 1000 / the rate offered. */
export const paceMs = (cell, pacedRps) => Math.max(1, Math.round((cell.connections * 1000) / pacedRps));

/**
 * How long a paced cell's connections wait before their first request (bench/wrk/paced.lua),
 * in ms: wrk opens them all at once, and 1,000 accepts (2,000 when the pairs load two
 * servers at once) take a few tens of ms, whose requests would make the turn's p99.
 */
export const PACED_SETTLE_MS = 250;

/** One wrk load of a cell: run.mjs's runWrk with the cell's path, connections and script; resolves its result. */
export async function loadCell(ctx, cell, port, seconds, cpus) {
  const url = `http://${ctx.host}:${port}${cell.path}`;
  const scenario = { bodyBytes: cell.bodyBytes ?? 0 };
  let script = {};
  if (cell.pipeline) script = { script: 'bench/wrk/pipeline.lua', env: { BENCH_WRK_PIPELINE: String(cell.pipeline) } };
  else if (cell.paced) {
    const env = { BENCH_WRK_PACE_MS: String(paceMs(cell, ctx.pacedRps)), BENCH_WRK_SETTLE_MS: String(PACED_SETTLE_MS), BENCH_WRK_CONNECTIONS: String(cell.connections) };
    script = { script: 'bench/wrk/paced.lua', env };
  }
  const r = await ctx.runWrk(url, scenario, seconds, cpus?.client, { connections: cell.connections, ...script });
  // A paced cell's rate is over the time its requests were sent: wrk's duration less the
  // settle, in which none is (its CPU time, the accepts, still counts to the cell's).
  if (cell.paced && r.ok) {
    r.durationS -= PACED_SETTLE_MS / 1000;
    r.rps = r.requests / r.durationS;
  }
  return r;
}
