// A strict, pure parser of uwsgi request packets (what nginx's uwsgi_pass sends), for
// the pure-JS backend: the twin of native/protocol/uwsgi_parser.cc, with the same rules, the same
// choices and the same error sentences, tested against the same corpus (test/uwsgi).
//
// A packet is a 4-byte header: modifier1 (u8), the size of the vars block (u16 LE),
// modifier2 (u8); then the vars block: key/value pairs, each a u16 LE length and that
// many bytes, key first. CONTENT_LENGTH bytes of body follow the packet.
//
// The header is judged as soon as it is in; the vars block only once all of it is in
// (until then the answer is "more", found in O(1)), so a server re-parsing its growing
// buffer after every read does constant work per read, and every prefix of a packet
// gives either "more" or the very result the whole packet gives.

export const UWSGI_MAX_VARS = 256;
const HEADER_SIZE = 4;
const MODIFIER_MANAGE_PATH_INFO = 30; // uWSGI's UWSGI_MODIFIER_MANAGE_PATH_INFO

// The sentences of native/protocol/uwsgi_parser.cc, word for word: the log line must not tell
// the backends apart.
export const UWSGI_ERRORS = {
  modifier1: 'uwsgi packet: modifier1 is not 0 or 30 (not a plain uwsgi request: HTTP sent to a uwsgi socket?)',
  modifier2: 'uwsgi packet: modifier2 is not 0',
  tooBig: 'uwsgi packet: vars block larger than buffer-size',
  strayByte: 'uwsgi packet: one byte left at the end of the vars block (a truncated key length)',
  emptyKey: 'uwsgi packet: empty key',
  keyOverrun: 'uwsgi packet: key runs past the end of the vars block',
  keyByte: 'uwsgi packet: key holds a control byte, a space or DEL',
  valueLenOverrun: 'uwsgi packet: value length runs past the end of the vars block',
  valueOverrun: 'uwsgi packet: value runs past the end of the vars block',
  tooManyVars: 'uwsgi packet: more than 256 vars',
  contentLength: 'uwsgi packet: CONTENT_LENGTH is neither empty nor a decimal number below 10^19',
  contentLengthTwice: 'uwsgi packet: CONTENT_LENGTH appears twice',
  noMethod: 'uwsgi packet: REQUEST_METHOD is missing or empty',
} as const;

export interface UwsgiPacket {
  modifier1: number;
  modifier2: number;
  /** Every pair in order, repeats included; latin-1 strings (one char per byte). */
  vars: Array<[string, string]>;
  /** CONTENT_LENGTH's value; 0n when absent or empty. Up to 10^19 - 1: a bigint. */
  contentLength: bigint;
  /** 4 + the vars block's size: the body starts there. */
  consumed: number;
  // Indices into vars of the variables the server needs (the last occurrence), or -1.
  requestMethod: number;
  requestUri: number;
  pathInfo: number;
  scriptName: number;
  queryString: number;
  serverProtocol: number;
  contentLengthVar: number;
}

export type UwsgiParseResult = { kind: 'more' } | { kind: 'bad'; error: string } | { kind: 'ok'; packet: UwsgiPacket };

const MORE: UwsgiParseResult = { kind: 'more' };
const bad = (error: string): UwsgiParseResult => ({ kind: 'bad', error });

/**
 * Parses one uwsgi request packet from the front of buf. maxSize is the server's
 * buffer-size: a larger vars block is refused from the header alone, unread.
 */
export function parseUwsgiPacket(buf: Uint8Array, maxSize: number): UwsgiParseResult {
  if (buf.length < HEADER_SIZE) return MORE;
  if (buf[0] !== 0 && buf[0] !== MODIFIER_MANAGE_PATH_INFO) return bad(UWSGI_ERRORS.modifier1);
  if (buf[3] !== 0) return bad(UWSGI_ERRORS.modifier2);
  const size = u16(buf, 1);
  if (size > maxSize) return bad(UWSGI_ERRORS.tooBig);
  if (buf.length - HEADER_SIZE < size) return MORE;
  return parseVars(buf, buf[0]!, HEADER_SIZE + size);
}

function u16(buf: Uint8Array, at: number): number {
  return buf[at]! | (buf[at + 1]! << 8);
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

/** The vars block, buf[4..end), all in: one forward pass, errors in the order met. */
function parseVars(buf: Uint8Array, modifier1: number, end: number): UwsgiParseResult {
  const packet: UwsgiPacket = {
    modifier1,
    modifier2: 0,
    vars: [],
    contentLength: 0n,
    consumed: end,
    requestMethod: -1,
    requestUri: -1,
    pathInfo: -1,
    scriptName: -1,
    queryString: -1,
    serverProtocol: -1,
    contentLengthVar: -1,
  };
  let p = HEADER_SIZE;
  while (p !== end) {
    // The 257th pair is refused when it starts, before its own bytes are judged.
    if (packet.vars.length === UWSGI_MAX_VARS) return bad(UWSGI_ERRORS.tooManyVars);
    if (end - p < 2) return bad(UWSGI_ERRORS.strayByte);
    const keyLen = u16(buf, p);
    p += 2;
    if (keyLen === 0) return bad(UWSGI_ERRORS.emptyKey);
    if (keyLen > end - p) return bad(UWSGI_ERRORS.keyOverrun);
    const keyAt = p;
    for (let i = keyAt; i < keyAt + keyLen; i++) {
      // Visible ASCII, or 0x80-0xFF: nginx with ignore_invalid_headers off makes
      // "X-Caf\xe9" the key "HTTP_X_CAF\xe9".
      const k = buf[i]!;
      if (k <= 0x20 || k === 0x7f) return bad(UWSGI_ERRORS.keyByte);
    }
    p += keyLen;
    if (end - p < 2) return bad(UWSGI_ERRORS.valueLenOverrun);
    const valueLen = u16(buf, p);
    p += 2;
    if (valueLen > end - p) return bad(UWSGI_ERRORS.valueOverrun);
    const key = latin1(buf, keyAt, keyAt + keyLen);
    const value = latin1(buf, p, p + valueLen);
    p += valueLen;
    const error = noteVar(packet, key, value);
    if (error !== undefined) return bad(error);
    packet.vars.push([key, value]);
  }
  if (packet.requestMethod < 0 || packet.vars[packet.requestMethod]![1] === '') return bad(UWSGI_ERRORS.noMethod);
  return { kind: 'ok', packet };
}

/** Notes the index of a key the server needs (the pair about to be pushed); an error sentence for a bad CONTENT_LENGTH. */
function noteVar(packet: UwsgiPacket, key: string, value: string): string | undefined {
  const index = packet.vars.length;
  switch (key) {
    case 'REQUEST_METHOD':
      packet.requestMethod = index;
      break;
    case 'REQUEST_URI':
      packet.requestUri = index;
      break;
    case 'PATH_INFO':
      packet.pathInfo = index;
      break;
    case 'SCRIPT_NAME':
      packet.scriptName = index;
      break;
    case 'QUERY_STRING':
      packet.queryString = index;
      break;
    case 'SERVER_PROTOCOL':
      packet.serverProtocol = index;
      break;
    case 'CONTENT_LENGTH': {
      if (packet.contentLengthVar >= 0) return UWSGI_ERRORS.contentLengthTwice;
      packet.contentLengthVar = index;
      const n = parseContentLength(value);
      if (n === undefined) return UWSGI_ERRORS.contentLength;
      packet.contentLength = n;
      break;
    }
    default:
      break;
  }
  return undefined;
}

/**
 * Empty (0), or decimal digits below 10^19. nginx passes the client's text on, leading
 * zeros and all (ngx_atoof accepts them): they are skipped, then at most 19 digits.
 */
function parseContentLength(value: string): bigint | undefined {
  let first = 0;
  while (first < value.length && value.charCodeAt(first) === 0x30) first++;
  if (value.length - first > 19) return undefined;
  for (let i = first; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  return first === value.length ? 0n : BigInt(value.slice(first));
}

/**
 * PATH_INFO without the front end's SCRIPT_NAME, a whole path segment at a time, as
 * native/protocol/cgi_vars.cc StripScriptName has it: SCRIPT_NAME /app takes /app/x to /x and
 * /app to "", but leaves /apple alone; trailing slashes of SCRIPT_NAME do not count.
 */
export function stripScriptName(path: string, scriptName: string): string {
  let n = scriptName.length;
  while (n > 0 && scriptName.charCodeAt(n - 1) === 0x2f) n--;
  if (n === 0 || path.length < n || !path.startsWith(scriptName.slice(0, n))) return path;
  if (path.length > n && path.charCodeAt(n) !== 0x2f) return path;
  return path.slice(n);
}
