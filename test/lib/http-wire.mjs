// HTTP/1.1 as bytes: building a request, and a small parser of responses (framing by
// Content-Length, chunked coding or the close; interim 1xx answers kept apart).

/** Builds a request: lines joined with CRLF, the head ended with an empty line. */
export function req(method, target, headers = [], body = '', version = 'HTTP/1.1') {
  let head = `${method} ${target} ${version}\r\n`;
  const hasHost = headers.some(([n]) => n.toLowerCase() === 'host');
  if (!hasHost && version === 'HTTP/1.1') head += 'Host: test\r\n';
  for (const [n, v] of headers) head += `${n}: ${v}\r\n`;
  return head + '\r\n' + body;
}

/**
 * Parses one response from buf at offset. Options: method (a HEAD response has no
 * body). Returns { version, status, reason, headers: [[name, value]], header(name),
 * headerAll(name), body: Buffer, raw: Buffer, complete, framing, interim, end }.
 * complete is false when the body is not all there (fewer bytes than
 * Content-Length, a chunked body without its last chunk). Throws on a malformed head.
 */
export function parseResponse(buf, { method = 'GET', offset = 0, closed = true } = {}) {
  const headEnd = buf.indexOf('\r\n\r\n', offset, 'latin1');
  if (headEnd === -1) return undefined;
  const headText = buf.subarray(offset, headEnd).toString('latin1');
  const lines = headText.split('\r\n');
  const m = /^(HTTP\/\d\.\d) (\d{3}) ?(.*)$/.exec(lines[0]);
  if (!m) throw new Error(`malformed status line ${JSON.stringify(lines[0])}`);
  const headers = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line ${JSON.stringify(line)}`);
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  const status = Number(m[2]);
  const res = {
    version: m[1],
    status,
    reason: m[3],
    headers,
    header(name) {
      const l = name.toLowerCase();
      const found = headers.filter(([n]) => n.toLowerCase() === l);
      return found.length === 0 ? undefined : found.map(([, v]) => v).join(', ');
    },
    headerAll(name) {
      const l = name.toLowerCase();
      return headers.filter(([n]) => n.toLowerCase() === l).map(([, v]) => v);
    },
    interim: status >= 100 && status < 200,
    body: Buffer.alloc(0),
    complete: false,
    framing: 'none',
  };
  let pos = headEnd + 4;
  const te = res.header('transfer-encoding');
  const cl = res.header('content-length');
  if (res.interim || status === 204 || status === 304 || method === 'HEAD') {
    res.complete = true;
  } else if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(te)) {
    res.framing = 'chunked';
    const parts = [];
    for (;;) {
      const eol = buf.indexOf('\r\n', pos, 'latin1');
      if (eol === -1) break;
      const size = parseInt(buf.subarray(pos, eol).toString('latin1').split(';')[0], 16);
      if (!Number.isFinite(size)) throw new Error(`malformed chunk size at ${pos}`);
      if (size === 0) {
        // No trailers from tsgi: the last chunk is "0\r\n\r\n".
        if (buf.length >= eol + 4 && buf.subarray(eol + 2, eol + 4).toString('latin1') === '\r\n') {
          pos = eol + 4;
          res.complete = true;
        }
        break;
      }
      if (buf.length < eol + 2 + size + 2) break;
      parts.push(buf.subarray(eol + 2, eol + 2 + size));
      if (buf.subarray(eol + 2 + size, eol + 4 + size).toString('latin1') !== '\r\n') {
        throw new Error('chunk data not followed by CRLF');
      }
      pos = eol + 4 + size;
    }
    res.body = Buffer.concat(parts);
    if (!res.complete) pos = buf.length;
  } else if (cl !== undefined) {
    res.framing = 'content-length';
    const n = Number(cl);
    res.body = buf.subarray(pos, Math.min(buf.length, pos + n));
    res.complete = res.body.length === n;
    pos += res.body.length;
  } else {
    res.framing = 'close';
    res.body = buf.subarray(pos);
    res.complete = closed;
    pos = buf.length;
  }
  res.end = pos;
  res.raw = buf.subarray(offset, pos);
  return res;
}

/**
 * Parses every response in buf, in order. methods: the request methods in order (for
 * HEAD); 1xx responses are included (interim: true) and do not use up a method.
 */
export function parseResponses(buf, { methods = [], closed = true } = {}) {
  const out = [];
  let offset = 0;
  let i = 0;
  while (offset < buf.length) {
    const r = parseResponse(buf, { method: methods[i] ?? 'GET', offset, closed });
    if (r === undefined) break;
    out.push(r);
    if (!r.interim) i++;
    offset = r.end;
    if (!r.complete) break;
  }
  return out;
}
