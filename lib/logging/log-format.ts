// The request log operators shape: --logformat (uWSGI's %(...) variables), --log-encoder
// json, --log-x-forwarded-for, and the filters --log-4xx, --log-5xx, --log-slow,
// --log-big. The default line stays native (native/protocol/request_log.cc; lib/protocol/request-log.ts
// for the pure-JS backend); a custom one is compiled once here into a list of parts and
// made from the request's environ when the request ends, on either backend.
import { TsgiError } from '../base/errors.js';
import { formatRequestLog, logDate, type RequestEntry } from '../protocol/request-log.js';
export { logMessage, messageLine, setMessageEncoder } from '../protocol/request-log.js';
import type { Config } from '../config/typed.js';

/** What the server knows of a request when it ends; the environ holds the rest. */
export interface LogFacts {
  status: number;
  bodyBytes: number;
  headerCount: number;
  headerBytes: number; // the response head as written, status line included
  micros: number;
  requests: number; // this worker's count, this one included
  varsCount: number;
  varsBytes: number;
}

type Env = Record<string, unknown>;
interface Ctx {
  env: Env;
  f: LogFacts;
  now: number; // ms since the epoch, when the request ended
  addr: string;
  pid: number;
  wid: number;
  core: number;
}
type Value = (c: Ctx) => string | number;

const str = (c: Ctx, k: string): string => {
  const v = c.env[k];
  return typeof v === 'string' ? v : '';
};
const startMs = (c: Ctx) => c.now - c.f.micros / 1000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let apacheSecond = -1;
let apacheText = '';

/** Apache's (and uWSGI's %(ltime)) date: "06/Dec/2026:12:30:19 +0100", local time; made once a second. */
export function apacheDate(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== apacheSecond) {
    const d = new Date(second * 1000);
    const p = (n: number) => String(n).padStart(2, '0');
    const off = -d.getTimezoneOffset();
    const zone = `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
    apacheText = `${p(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${zone}`;
    apacheSecond = second;
  }
  return apacheText;
}

let isoSecond = -1;
let isoPrefix = '';

/** new Date(ms).toISOString(), its "2026-12-06T12:30:19." made once a second. */
export function isoDate(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    isoSecond = second;
  }
  return `${isoPrefix}${String(Math.floor(ms) - second * 1000).padStart(3, '0')}Z`;
}

/** uWSGI's log variables, by name (docs/architecture.md "Logging" lists them). */
const VARIABLES: Record<string, Value> = {
  uri: (c) => str(c, 'REQUEST_URI'),
  method: (c) => str(c, 'REQUEST_METHOD'),
  user: (c) => str(c, 'REMOTE_USER'),
  addr: (c) => c.addr,
  host: (c) => str(c, 'HTTP_HOST'),
  proto: (c) => str(c, 'SERVER_PROTOCOL'),
  uagent: (c) => str(c, 'HTTP_USER_AGENT'),
  referer: (c) => str(c, 'HTTP_REFERER'),
  status: (c) => c.f.status,
  micros: (c) => c.f.micros,
  msecs: (c) => Math.floor(c.f.micros / 1000),
  secs: (c) => c.f.micros / 1e6,
  time: (c) => Math.floor(startMs(c) / 1000),
  tmsecs: (c) => Math.floor(startMs(c)),
  tmicros: (c) => Math.floor(startMs(c) * 1000),
  ctime: (c) => logDate(startMs(c)),
  ltime: (c) => apacheDate(startMs(c)),
  epoch: (c) => Math.floor(c.now / 1000),
  size: (c) => c.f.bodyBytes + c.f.headerBytes,
  rsize: (c) => c.f.bodyBytes,
  hsize: (c) => c.f.headerBytes,
  headers: (c) => c.f.headerCount,
  cl: (c) => Number(str(c, 'CONTENT_LENGTH')) || 0,
  vars: (c) => c.f.varsCount,
  pid: (c) => c.pid,
  wid: (c) => c.wid,
  core: (c) => c.core,
  switches: () => 1,
};

/** The keys of --log-encoder json without --logformat. */
const JSON_KEYS = ['time', 'pid', 'wid', 'addr', 'method', 'uri', 'proto', 'status', 'size', 'rsize', 'hsize', 'msecs', 'host', 'referer', 'uagent'];
const JSON_TIME: Value = (c) => isoDate(startMs(c));

type Part = string | { name: string; value: Value };

/** "%(method) %(uri)" as parts; an unknown variable is an error naming it. */
export function compileLogFormat(format: string): Part[] {
  const parts: Part[] = [];
  const re = /%\(([^)]*)\)/g;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    if (m.index > last) parts.push(format.slice(last, m.index));
    const name = m[1]!;
    let value: Value | undefined = VARIABLES[name];
    if (name.startsWith('var.') && name.length > 4) {
      const key = name.slice(4);
      value = (c) => str(c, key);
    }
    if (value === undefined) {
      throw new TsgiError(
        'TSGI_ERR_OPTION_INVALID',
        `--logformat: unknown variable %(${name}); tsgi knows ${Object.keys(VARIABLES).map((k) => `%(${k})`).join(' ')} and %(var.NAME) for any environ key`,
      );
    }
    parts.push({ name, value });
    last = re.lastIndex;
  }
  if (last < format.length) parts.push(format.slice(last));
  return parts;
}

// Control bytes and backslashes as \xHH, as native/protocol/request_log.cc AppendEscaped writes
// them: a value from a client cannot forge a line.
const UNSAFE = /[\0-\x1f\x7f\\]/g;
export function escapeText(s: string): string {
  return UNSAFE.test(s) ? s.replace(UNSAFE, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`) : s;
}

/** Which requests get a line (native/protocol/request_log.cc ShouldLogRequest is the twin). */
export interface LogFilter {
  all: boolean;
  status4xx: boolean;
  status5xx: boolean;
  slowMs: number;
  bigBytes: number;
}

export function logFilter(config: Config): LogFilter {
  return {
    all: !config.disableLogging,
    status4xx: config.log4xx,
    status5xx: config.log5xx,
    slowMs: config.logSlow,
    bigBytes: config.logBig,
  };
}

export function shouldLog(f: LogFilter, status: number, msecs: number, bodyBytes: number): boolean {
  if (f.all) return true;
  if (f.status4xx && status >= 400 && status <= 499) return true;
  if (f.status5xx && status >= 500 && status <= 599) return true;
  if (f.slowMs > 0 && msecs >= f.slowMs) return true;
  return f.bigBytes > 0 && bodyBytes >= f.bigBytes;
}

/** Whether any request may get a line under f. */
export function logsAny(f: LogFilter): boolean {
  return f.all || f.status4xx || f.status5xx || f.slowMs > 0 || f.bigBytes > 0;
}

/** A request's line (newline included, latin-1), made from its environ. */
export type RequestLine = (env: Env, f: LogFacts) => string;

/**
 * The line maker that --logformat, --log-encoder json and --log-x-forwarded-for ask
 * for; undefined when none is given and the default line serves (made natively).
 * wid: the worker's id (1 without a master); core: the thread.
 */
export function customRequestLine(config: Config, wid: number, core: number): RequestLine | undefined {
  const format = config.logformat;
  const json = config.logEncoder === 'json';
  const xff = config.logXForwardedFor;
  if (format === undefined && !json && !xff) return undefined;
  const pid = process.pid;
  const context = (env: Env, f: LogFacts): Ctx => {
    let addr = str({ env } as Ctx, 'REMOTE_ADDR');
    if (xff) {
      const forwarded = env.HTTP_X_FORWARDED_FOR;
      if (typeof forwarded === 'string' && forwarded !== '') addr = forwarded;
    }
    return { env, f, now: Date.now(), addr, pid, wid, core };
  };
  if (json) {
    const fields: Array<{ key: string; value: Value }> =
      format !== undefined
        ? compileLogFormat(format).flatMap((p) => (typeof p === 'string' ? [] : [{ key: p.name, value: p.value }]))
        : JSON_KEYS.map((key) => ({ key, value: key === 'time' ? JSON_TIME : VARIABLES[key]! }));
    const keys = fields.map((x) => JSON.stringify(x.key) + ':');
    return (env, f) => {
      const c = context(env, f);
      let out = '{';
      for (let i = 0; i < fields.length; i++) {
        const v = fields[i]!.value(c);
        out += (i === 0 ? '' : ',') + keys[i] + (typeof v === 'number' ? String(v) : JSON.stringify(v));
      }
      return out + '}\n';
    };
  }
  if (format !== undefined) {
    const parts = compileLogFormat(format);
    return (env, f) => {
      const c = context(env, f);
      let out = '';
      for (const p of parts) out += typeof p === 'string' ? p : escapeValue(p.value(c));
      return out + '\n';
    };
  }
  // --log-x-forwarded-for alone: the default line, its address from the header.
  return (env, f) => {
    const c = context(env, f);
    return formatRequestLog({
      pid,
      requests: f.requests,
      remoteAddr: escapeText(c.addr),
      varsCount: f.varsCount,
      varsBytes: f.varsBytes,
      method: escapeText(str(c, 'REQUEST_METHOD')),
      uri: escapeText(str(c, 'REQUEST_URI')),
      bodyBytes: f.bodyBytes,
      msecs: Math.floor(f.micros / 1000),
      protocol: escapeText(str(c, 'SERVER_PROTOCOL')),
      status: f.status,
      headerCount: f.headerCount,
      headerBytes: f.headerBytes,
      core,
    });
  };
}

/**
 * The pure-JS backend's line for a request that ends now (native Server::LogRequest is
 * the twin): undefined when filter leaves it out; custom's line, else the default one.
 */
export function entryLine(e: RequestEntry, filter: LogFilter, custom: RequestLine | undefined, env: Env | undefined): string | undefined {
  const micros = Number((process.hrtime.bigint() - e.started) / 1000n);
  e.msecs = Math.floor(micros / 1000);
  if (!shouldLog(filter, e.status, e.msecs, e.bodyBytes)) return undefined;
  if (custom === undefined) return formatRequestLog(e);
  const { status, bodyBytes, headerCount, headerBytes, requests, varsCount, varsBytes } = e;
  return custom(env ?? {}, { status, bodyBytes, headerCount, headerBytes, micros, requests, varsCount, varsBytes });
}

function escapeValue(v: string | number): string {
  return typeof v === 'number' ? String(v) : escapeText(v);
}
