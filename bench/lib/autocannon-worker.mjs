#!/usr/bin/env node
// Runs one autocannon load in its own process (so bench/run.mjs can pin it to a CPU
// with taskset) and prints autocannon's result, without its histograms, as JSON on stdout.
//
//   node bench/lib/autocannon-worker.mjs '{"url":"http://127.0.0.1:PORT/","connections":50,"duration":10}'
//
// Options: url, connections, duration (seconds), method, bodyBytes, contentType.
import autocannon from 'autocannon';

const opts = JSON.parse(process.argv[2] ?? '{}');
const body = opts.bodyBytes ? 'x'.repeat(opts.bodyBytes) : undefined;
const headers = body !== undefined ? { 'content-type': opts.contentType ?? 'application/octet-stream' } : {};

const instance = autocannon(
  {
    url: opts.url,
    connections: opts.connections ?? 50,
    pipelining: 1,
    duration: opts.duration ?? 10,
    method: opts.method ?? 'GET',
    headers,
    body,
  },
  (err, result) => {
    if (err) {
      process.stderr.write(`autocannon: ${err.stack ?? err}\n`);
      process.exit(1);
    }
    const { latencies: _l, requests: _r, throughput: _t, ...rest } = result;
    // latency/requests/throughput are the aggregated objects (percentiles, mean ...).
    process.stdout.write(
      JSON.stringify({ ...rest, latency: result.latency, requests: result.requests, throughput: result.throughput }) + '\n',
    );
  },
);
instance.on('error', (err) => process.stderr.write(`autocannon: ${err?.message ?? err}\n`));
