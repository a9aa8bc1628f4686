// One raw HTTP/1.1 request over node:net, for bench/run.mjs to check a server's answer
// byte for byte before (and after) loading it. The request is keep-alive, as the load
// generators' are, so the response head seen here is the one they get; the response
// is framed by Content-Length or chunked coding (or the close), then the socket is closed.
import net from 'node:net';

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Decodes a complete chunked body; undefined while more bytes are needed. */
function dechunk(buf) {
  const parts = [];
  let pos = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol === -1) return undefined;
    const size = parseInt(buf.subarray(pos, eol).toString('latin1').split(';')[0].trim(), 16);
    if (Number.isNaN(size)) throw new Error(`bad chunk size line ${JSON.stringify(buf.subarray(pos, eol).toString('latin1'))}`);
    pos = eol + 2;
    if (size === 0) {
      // Trailers (none expected), then the final CRLF.
      for (;;) {
        const end = buf.indexOf('\r\n', pos);
        if (end === -1) return undefined;
        if (end === pos) return { body: Buffer.concat(parts), chunks: parts.length };
        pos = end + 2;
      }
    }
    if (buf.length < pos + size + 2) return undefined;
    parts.push(buf.subarray(pos, pos + size));
    pos += size + 2;
  }
}

/**
 * rawRequest({ host, port, method, path, headers, body, timeoutMs }) resolves to
 * { status, reason, statusLine, headers: [[name, value]], head, headBytes, body, chunked, chunks }.
 */
export function rawRequest({ host, port, method = 'GET', path = '/', headers = {}, body, timeoutMs = 5000 }) {
  return new Promise((resolve, reject) => {
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}:${port}`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    const request = Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body !== undefined ? Buffer.from(body) : Buffer.alloc(0)]);

    const socket = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    let parsed;
    let settled = false;
    const finish = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(new Error(`no complete response within ${timeoutMs} ms (${buf.length} bytes received)`)), timeoutMs);

    const tryParse = (eof) => {
      if (!parsed) {
        const end = buf.indexOf(CRLFCRLF);
        if (end === -1) {
          if (eof) finish(new Error(`connection closed before a complete response head (${buf.length} bytes received)`));
          return;
        }
        const head = buf.subarray(0, end).toString('latin1');
        const [statusLine, ...headerLines] = head.split('\r\n');
        const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
        if (!m) return finish(new Error(`bad status line ${JSON.stringify(statusLine)}`));
        const hdrs = headerLines.map((l) => {
          const c = l.indexOf(':');
          return [l.slice(0, c), l.slice(c + 1).trim()];
        });
        const get = (name) => hdrs.find(([k]) => k.toLowerCase() === name)?.[1];
        parsed = {
          status: Number(m[1]),
          reason: m[2] ?? '',
          statusLine,
          headers: hdrs,
          head,
          headBytes: end + 4,
          contentLength: get('content-length') !== undefined ? Number(get('content-length')) : undefined,
          chunked: /\bchunked\b/i.test(get('transfer-encoding') ?? ''),
        };
      }
      const rest = buf.subarray(parsed.headBytes);
      const { contentLength, chunked, ...info } = parsed;
      if (chunked) {
        let d;
        try {
          d = dechunk(rest);
        } catch (err) {
          return finish(err);
        }
        if (d) return finish(null, { ...info, chunked: true, chunks: d.chunks, body: d.body });
        if (eof) finish(new Error('connection closed inside a chunked body'));
      } else if (contentLength !== undefined) {
        if (rest.length >= contentLength) return finish(null, { ...info, chunked: false, body: rest.subarray(0, contentLength) });
        if (eof) finish(new Error(`connection closed after ${rest.length} of ${contentLength} body bytes`));
      } else if (eof) {
        finish(null, { ...info, chunked: false, body: rest });
      }
    };

    socket.on('connect', () => socket.write(request));
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      tryParse(false);
    });
    socket.on('end', () => tryParse(true));
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error('connection closed')));
  });
}
