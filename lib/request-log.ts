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
  return `[pid: ${pid}] ${addr}:${port} [${logDate()}] refused ${status} ${text}: ${why}\n`;
}
