// The clients of test/integration/faults-*.test.mjs: raw connections (raw-client.mjs's
// connect()) to the faults server's HTTP port or its uwsgi unix socket, each tracked so
// that a failed test leaves none open; one request and its answer; the probe that checks
// the server still serves, and a prober that runs it every 100 ms; an abrupt end of a
// connection; and the memory soak's keep-alive POSTs.
import { connect, request } from './raw-client.mjs';
import { nginxLikePacket } from './uwsgi-client.mjs';
import { delay } from './wait.mjs';

// Every client socket and prober, so that a failed test leaves nothing running.
const liveSockets = new Set();
const liveProbers = new Set();

/** Stops every prober and destroys every client socket (a test's after-hook). */
export async function cleanupClients() {
  for (const p of liveProbers) p.running = false;
  for (const s of liveSockets) s.destroy();
  await Promise.all([...liveProbers].map((p) => p.done));
  liveProbers.clear();
}

/** connect(target), tracked: the faults server's HTTP(srv) port or its UWSGI(srv) socket. */
export function dial(target) {
  const c = connect(target);
  liveSockets.add(c.socket);
  c.socket.on('close', () => liveSockets.delete(c.socket));
  return c;
}

/** The faults server's HTTP port, and its uwsgi unix socket, as dial()'s targets. */
export const HTTP = (srv) => srv.port;
export const UWSGI = (srv) => ({ path: srv.sock });

/** One request on a fresh connection; resolves with { status, body, ms, res } or rejects after ms. */
export async function exchange(target, bytes, ms = 2000) {
  const started = Date.now();
  const res = await request(target, bytes, { timeoutMs: ms });
  if (!res.complete) throw new Error(`no complete response; got ${JSON.stringify(res.wire.text.slice(0, 200))}`);
  return { status: res.status, body: res.body.toString('latin1'), ms: Date.now() - started, res };
}

const GET_OK = Buffer.from('GET /probe HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n');
const UWSGI_OK = nginxLikePacket('GET', '/probe');

/** A probe: a valid GET over HTTP (and every uwsgi-th one over the unix socket). */
export async function probe(srv, { uwsgi = false, ms = 2000 } = {}) {
  const r = await exchange(uwsgi ? UWSGI(srv) : HTTP(srv), uwsgi ? UWSGI_OK : GET_OK, ms);
  if (r.status !== 200 || r.body !== 'ok\n') throw new Error(`probe answered ${r.status} ${JSON.stringify(r.body)}`);
  return r.ms;
}

/** Probes every `every` ms until stop() is called; collects failures and the slowest. */
export function prober(srv, every = 100) {
  const state = { count: 0, failures: [], maxMs: 0, running: true };
  state.done = (async () => {
    while (state.running) {
      const started = Date.now();
      const uwsgi = state.count % 5 === 4;
      try {
        const ms = await probe(srv, { uwsgi });
        state.maxMs = Math.max(state.maxMs, ms);
      } catch (err) {
        state.failures.push(`${new Date().toISOString()} ${uwsgi ? 'uwsgi' : 'http'} probe #${state.count}: ${err.message}`);
      }
      state.count++;
      await delay(Math.max(0, every - (Date.now() - started)));
    }
  })();
  state.stop = async () => {
    state.running = false;
    await state.done;
    liveProbers.delete(state);
    return state;
  };
  liveProbers.add(state);
  return state;
}

/** Ends a connection abruptly: a reset (TCP), or a close (unix sockets have no reset). */
export function cut(c, how) {
  if (how === 'rst' && c.socket.remotePort !== undefined) c.socket.resetAndDestroy();
  else c.socket.destroy();
}

/** count keep-alive POSTs of body over conns connections; resolves with the requests done. */
export async function postMany(srv, count, conns, body) {
  const request = Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
  const expect = `${body.length}\n`;
  let issued = 0;
  let done = 0;
  const one = (c) =>
    new Promise((resolve, reject) => {
      let buf = Buffer.alloc(0);
      const next = () => {
        if (issued >= count) {
          c.socket.off('data', onData);
          resolve();
          return;
        }
        issued++;
        c.socket.write(request);
      };
      const onData = (d) => {
        buf = buf.length ? Buffer.concat([buf, d]) : d;
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.subarray(0, end).toString('latin1');
          const m = /\r\nContent-Length: (\d+)/i.exec(head);
          if (!head.startsWith('HTTP/1.1 200 ') || !m) {
            reject(new Error(`unexpected response ${JSON.stringify(head)}`));
            return;
          }
          const total = end + 4 + Number(m[1]);
          if (buf.length < total) return;
          const got = buf.subarray(end + 4, total).toString('latin1');
          if (got !== expect) {
            reject(new Error(`unexpected body ${JSON.stringify(got)}`));
            return;
          }
          buf = buf.subarray(total);
          done++;
          next();
        }
      };
      c.socket.on('data', onData);
      c.closed.then(() => reject(new Error(`the server closed a keep-alive connection after ${done} requests`)));
      next();
    });
  await Promise.all(conns.map(one));
  return done;
}
