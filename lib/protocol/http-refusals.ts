// Why the pure-JS backend refuses an HTTP request, in the native server's words: the
// twin of the table in native/protocol/http_parser.cc (DescribeHttpError), held to it by
// test/unit/http-refusals.test.mjs, so that a refusal's log line does not tell the
// backends apart. docs/errors.md lists the reasons.
//
// node:http's parser (llhttp) judges the head and the chunked body before tsgi sees
// the request, and reports what it refuses through 'clientError' with an HPE_* code;
// clientErrorRefusal() turns that into the native server's status and reason.

/** Each refusal of native/protocol/http_parser.cc's HttpError: [status, reason]. */
export const HTTP_REFUSALS = {
  requestLine: [400, 'malformed request line'],
  version: [505, 'unsupported HTTP version'],
  target: [400, 'malformed request target'],
  fragment: [400, 'fragment in the request target'],
  asterisk: [400, 'asterisk-form target with a method other than OPTIONS'],
  authority: [400, 'invalid authority in the request target'],
  userinfo: [400, 'userinfo in the request target'],
  scheme: [400, 'absolute-form target with a scheme other than http or https'],
  authorityForm: [400, 'authority-form target with a method other than CONNECT'],
  connectTarget: [400, 'CONNECT without an authority-form target'],
  connect: [501, 'CONNECT is not supported'],
  bareCr: [400, 'CR not followed by LF'],
  bareLf: [400, 'bare LF'],
  obsFold: [400, 'obsolete line folding'],
  spaceBeforeColon: [400, 'whitespace before colon'],
  fieldName: [400, 'malformed field name'],
  fieldValue: [400, 'invalid character in a field value'],
  missingHost: [400, 'missing Host header'],
  duplicateHost: [400, 'more than one Host header'],
  contentLength: [400, 'malformed Content-Length'],
  contentLengths: [400, 'differing Content-Lengths'],
  contentLengthAndTe: [400, 'Content-Length with Transfer-Encoding'],
  teHttp10: [400, 'Transfer-Encoding in HTTP/1.0'],
  transferEncoding: [400, 'malformed Transfer-Encoding'],
  teNotChunked: [400, 'last transfer coding is not chunked'],
  teChunkedTwice: [400, 'chunked listed more than once'],
  teUnsupported: [501, 'unsupported transfer coding'],
  headTooLarge: [431, 'request head over buffer-size'],
  tooManyFields: [431, 'more than 128 header fields'],
  chunkSize: [400, 'malformed chunk size'],
  chunkSizeTooLarge: [400, 'chunk size over 2^63-1'],
  chunkExtension: [400, 'malformed chunk extension'],
  chunkLineTooLong: [400, 'chunk-size or trailer line over 4096 bytes'],
  chunkDataEnd: [400, 'no CRLF after chunk data'],
  trailer: [400, 'malformed trailer field'],
} as const satisfies Record<string, readonly [number, string]>;

export type HttpRefusal = keyof typeof HTTP_REFUSALS;

/** What 'clientError' hands over: node:http's parse error (see prepareError in _http_server.js). */
export interface ClientError {
  code?: string;
  reason?: string;
  bytesParsed?: number;
  rawPacket?: Buffer;
}

const SP = 0x20;
const HTAB = 0x09;
const LF = 0x0a;

/**
 * The refusal for a parse error of node:http's, given whether the request's head was
 * already accepted (the error is then in its chunked body). err.rawPacket[err.bytesParsed]
 * is the byte llhttp stopped at. judgeTarget(method, target) is asked about a target
 * llhttp refused, so that it is named as the native server names it.
 */
export function clientErrorRefusal(
  err: ClientError,
  inBody: boolean,
  judgeTarget: (method: string, target: string) => HttpRefusal | undefined,
): readonly [number, string] {
  const code = err.code ?? '';
  const reason = err.reason ?? '';
  const raw = err.rawPacket;
  const at = err.bytesParsed ?? -1;
  const byte = raw !== undefined && at >= 0 && at < raw.length ? raw[at]! : -1;
  const before = raw !== undefined && at > 0 && at <= raw.length ? raw[at - 1]! : -1;
  const refusal = (key: HttpRefusal) => HTTP_REFUSALS[key];
  if (code === 'HPE_HEADER_OVERFLOW') return refusal('headTooLarge');
  if (code === 'HPE_CR_EXPECTED') return refusal('bareLf');
  if (code === 'HPE_LF_EXPECTED') return refusal('bareCr');
  if (inBody) {
    // The chunked body: its size lines, extensions, data ends and trailers.
    if (code === 'HPE_INVALID_CHUNK_SIZE') return byte === LF ? refusal('bareLf') : refusal('chunkSize');
    if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return refusal('chunkLineTooLong');
    if (code === 'HPE_STRICT' && reason.includes('chunk extension')) return refusal('chunkExtension');
    if (code === 'HPE_STRICT' && reason.includes('chunk data')) return refusal('chunkDataEnd');
    if (code === 'HPE_INVALID_HEADER_TOKEN') return refusal('trailer');
    return [400, `malformed chunked body (${code})`];
  }
  switch (code) {
    case 'HPE_INVALID_METHOD':
    case 'HPE_INVALID_CONSTANT':
      return refusal('requestLine');
    case 'HPE_INVALID_VERSION':
      return byte === LF ? refusal('bareLf') : refusal('requestLine');
    case 'HPE_INVALID_URL': {
      // llhttp stops inside the target: judge the whole target, as the native server
      // does once the request line is in (when this packet holds the line).
      if (byte === LF) return refusal('bareLf');
      const text = raw?.toString('latin1', 0, Math.min(raw.length, 65536)) ?? '';
      const m = /^(?:\r\n)*([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e\x80-\xff]+) HTTP\/1\.[01]\r\n/.exec(text);
      const judged = m ? judgeTarget(m[1]!, m[2]!) : undefined;
      return refusal(judged ?? 'target');
    }
    case 'HPE_INVALID_HEADER_TOKEN':
      if (byte === SP || byte === HTAB) return before === LF ? refusal('obsFold') : refusal('spaceBeforeColon');
      if (reason.includes('whitespace after header value')) return refusal('obsFold');
      if (byte === LF) return refusal('bareLf');
      return reason.includes('value') ? refusal('fieldValue') : refusal('fieldName');
    case 'HPE_INVALID_CONTENT_LENGTH':
      return refusal('contentLength');
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return refusal('contentLengths');
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return reason.includes('Content-Length') ? refusal('contentLengthAndTe') : refusal('teNotChunked');
    default:
      return [400, `malformed request (${code})`];
  }
}
