// The request log line in uWSGI's shape, for the pure-JS backend (the native server
// writes the same line from native/request_log.cc).

export interface RequestLogFields {
  pid: number;
  requests: number;
  remoteAddr: string;
  varsCount: number;
  varsBytes: number;
  method: string;
  uri: string;
  bodyBytes: number;
  msecs: number;
  protocol: string;
  status: number;
  headerCount: number;
  headerBytes: number;
  core: number;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
let cachedSecond = -1;
let cachedDate = '';

/** asctime's shape, local time: "Sat Nov 21 04:03:13 2026" (the day padded with a space). */
export function logDate(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    const d = new Date(second * 1000);
    const p = (n: number) => String(n).padStart(2, '0');
    cachedDate = `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
    cachedSecond = second;
  }
  return cachedDate;
}

export function formatRequestLog(f: RequestLogFields): string {
  return (
    `[pid: ${f.pid}|app: 0|req: ${f.requests}/${f.requests}] ${f.remoteAddr} () {${f.varsCount} vars in ${f.varsBytes} bytes} ` +
    `[${logDate()}] ${f.method} ${f.uri} => generated ${f.bodyBytes} bytes in ${f.msecs} msecs (${f.protocol} ${f.status}) ` +
    `${f.headerCount} headers in ${f.headerBytes} bytes (1 switches on core ${f.core})\n`
  );
}

export function formatRefusal(pid: number, addr: string, port: number | string, status: number, text: string, why: string): string {
  return formatConnectionLine(pid, `${addr}:${port}`, `refused ${status} ${text}: ${why}`);
}

/**
 * A line about a connection, not a request (native/server.cc LogLine): peer is
 * "addr:port", or "unix" for a unix-socket client, as the native server writes it.
 */
export function formatConnectionLine(pid: number, peer: string, what: string): string {
  return `[pid: ${pid}] ${peer} [${logDate()}] ${what}\n`;
}

/** "No such file or directory (ENOENT)", from a failed fs call's error: the native server's wording. */
export function describeSystemError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  // Node's message: "ENOENT: no such file or directory, open '/x/y'".
  const text = /^[A-Z0-9]+: ([^,]+)/.exec(e.message ?? '')?.[1] ?? String(e.message ?? err);
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${e.code ? ` (${e.code})` : ''}`;
}

export function statusText(status: number): string {
  return (
    { 400: 'Bad Request', 408: 'Request Timeout', 413: 'Content Too Large', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 501: 'Not Implemented', 505: 'HTTP Version Not Supported' }[status] ?? 'Error'
  );
}

