// The wire contract with the native addon: native/wire.h's numbers, mirrored here
// under their UPPER_SNAKE names (kSendChunked: SEND_CHUNKED), and the two tables lib
// gives the addon. test/unit/wire.test.mjs reads native/wire.h and fails when the two
// sides differ; lib/addon/binding.ts refuses an addon whose abiVersion is not
// WIRE_VERSION. The pure-JS backend speaks the same contract to the same Handler.

/** The contract's version (native/wire.h kWireVersion): raise both on any change. */
export const WIRE_VERSION = 5;

// send() flags.
export const SEND_CHUNKED = 1;
export const SEND_END = 2;
export const SEND_CLOSE = 4;
export const SEND_ADD_LENGTH = 8;
export const SEND_ABORT = 16;

// What send() returns.
export const SEND_GONE = -1;
export const SEND_GO_ON = 0;
export const SEND_BACKPRESSURE = 1;

// onRequest() flags; bits REQ_LISTENER_SHIFT and up: the index of the listener.
export const REQ_KEEP_ALIVE = 1;
export const REQ_HTTP10 = 2;
export const REQ_BODY_FILE = 4;
export const REQ_NEW_CONNECTION = 8;
export const REQ_UWSGI = 16;
export const REQ_UPGRADE = 32;
export const REQ_LISTENER_SHIFT = 8;

// wsSend()'s kind: a message, or a ping.
export const WS_SEND_MESSAGE = 0;
export const WS_SEND_PING = 1;

// What a listener speaks: the last argument of listen(), listenUnix() and listenFd().
export const PROTOCOL_HTTP = 0;
export const PROTOCOL_UWSGI = 1;

/** A request id is serial * 2^SLOT_BITS + its connection's slot. */
export const SLOT_BITS = 20;

/**
 * onRequest's arguments before the key/value pairs: id, flags, body, method, uri, path,
 * query, contentType, contentLength, remoteAddr, remotePort (native/wire.h says what
 * each holds).
 */
export const FIXED_ARGS = 11;

/** Request methods the native server names by index (a new string each time costs). */
export const METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT'];

/** Environ keys of common headers, named by index by the native server. */
export const KEYS: readonly string[] = [
  'HTTP_HOST',
  'HTTP_USER_AGENT',
  'HTTP_ACCEPT',
  'HTTP_ACCEPT_ENCODING',
  'HTTP_ACCEPT_LANGUAGE',
  'HTTP_ACCEPT_CHARSET',
  'HTTP_CONNECTION',
  'HTTP_KEEP_ALIVE',
  'HTTP_COOKIE',
  'HTTP_REFERER',
  'HTTP_ORIGIN',
  'HTTP_AUTHORIZATION',
  'HTTP_CACHE_CONTROL',
  'HTTP_PRAGMA',
  'HTTP_IF_MODIFIED_SINCE',
  'HTTP_IF_NONE_MATCH',
  'HTTP_IF_MATCH',
  'HTTP_IF_UNMODIFIED_SINCE',
  'HTTP_IF_RANGE',
  'HTTP_RANGE',
  'HTTP_EXPECT',
  'HTTP_UPGRADE',
  'HTTP_DNT',
  'HTTP_TE',
  'HTTP_VIA',
  'HTTP_FORWARDED',
  'HTTP_X_FORWARDED_FOR',
  'HTTP_X_FORWARDED_PROTO',
  'HTTP_X_FORWARDED_HOST',
  'HTTP_X_REAL_IP',
  'HTTP_X_REQUESTED_WITH',
  'HTTP_X_REQUEST_ID',
  'HTTP_SEC_FETCH_MODE',
  'HTTP_SEC_FETCH_SITE',
  'HTTP_SEC_FETCH_DEST',
  'HTTP_SEC_FETCH_USER',
  'HTTP_SEC_CH_UA',
  'HTTP_SEC_CH_UA_MOBILE',
  'HTTP_SEC_CH_UA_PLATFORM',
  'HTTP_UPGRADE_INSECURE_REQUESTS',
  'HTTP_PRIORITY',
  // What nginx's uwsgi_params sends besides the headers.
  'SERVER_NAME',
  'SERVER_PORT',
  'SERVER_PROTOCOL',
  'REQUEST_SCHEME',
  'HTTPS',
  'DOCUMENT_ROOT',
  'SCRIPT_NAME',
];
