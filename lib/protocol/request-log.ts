// The request log line in uWSGI's shape, for the pure-JS backend (the native server
// writes the same line from native/protocol/request_log.cc).

/** What the line shows: a request's entry, without its start time. */
export type RequestLogFields = Omit<RequestEntry, 'started'>;

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

/**
 * A request's log entry while it runs, on either path of the pure-JS backend: the
 * line's fields (send() fills in status, headers and body bytes), and when it began.
 */
export class RequestEntry {
  readonly pid = process.pid;
  bodyBytes = 0;
  msecs = 0;
  status = 0;
  headerCount = 0;
  headerBytes = 0;
  readonly core: number = 0;
  readonly started = process.hrtime.bigint();

  constructor(
    public remoteAddr: string,
    public varsCount: number,
    public varsBytes: number,
    public method: string,
    public uri: string,
    public protocol: string,
    public requests: number,
  ) {}

}

/** The line for a request refused before it reached the application; peer as formatConnectionLine has it. */
export function formatRefusal(pid: number, peer: string, status: number, why: string): string {
  return formatConnectionLine(pid, peer, `refused ${status} ${statusText(status)}: ${why}`);
}

/** The answer to a refused request: the status, its text as the body, and the close. */
export function refusalResponse(status: number): string {
  const body = statusText(status) + '\n';
  return `HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * A line about a connection, not a request (native/server/log.cc LogLine): peer is
 * "addr:port", or "unix" for a unix-socket client, as the native server writes it.
 * With --log-encoder json: {"time","pid","addr","msg"} (native AppendJsonConnectionLine).
 */
export function formatConnectionLine(pid: number, peer: string, what: string): string {
  if (jsonMessages) return `{"time":${JSON.stringify(new Date().toISOString())},"pid":${pid},"addr":${JSON.stringify(peer)},"msg":${JSON.stringify(what)}}\n`;
  return `[pid: ${pid}] ${peer} [${logDate()}] ${what}\n`;
}

let jsonMessages = false;

/** --log-encoder json: the server's own messages become {"time":..,"msg":..} lines. */
export function setMessageEncoder(encoder: string | undefined): void {
  jsonMessages = encoder === 'json';
}

/** A server message as a line, newline included, in the encoder's shape. */
export function messageLine(text: string, at: Date = new Date()): string {
  return jsonMessages ? `{"time":${JSON.stringify(at.toISOString())},"msg":${JSON.stringify(text)}}\n` : text + '\n';
}

/** Writes a server message to stderr (the log), in the encoder's shape. */
export function logMessage(text: string): void {
  process.stderr.write(messageLine(text));
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

