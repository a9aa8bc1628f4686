// Every error tsgi raises on purpose has a code; docs/errors.md lists them all (a
// test holds the two in step).

export const ErrorCodes = {
  TSGI_ERR_STATUS_INVALID: 'start_response was given a malformed status line',
  TSGI_ERR_HEADER_INVALID: 'start_response was given a malformed header name or value',
  TSGI_ERR_HEADER_HOP_BY_HOP: 'the application set a hop-by-hop header (Connection, Transfer-Encoding, ...)',
  TSGI_ERR_HEADERS_TYPE: 'start_response was given headers that are not a list of [name, value] pairs',
  TSGI_ERR_START_RESPONSE_TWICE: 'start_response was called a second time without excInfo',
  TSGI_ERR_NO_START_RESPONSE: 'the application produced a body before calling start_response',
  TSGI_ERR_BODY_TYPE: 'the application returned something that is not an iterable of chunks, or yielded a chunk that is not a string or a Uint8Array',
  TSGI_ERR_WRITE_AFTER_END: 'the write callable was used after the response ended',
  TSGI_ERR_APP_CONTRACT: 'validate(): the application broke the contract of docs/spec.md',
  TSGI_ERR_SERVER_CONTRACT: 'validate(): the server broke the contract of docs/spec.md',
  TSGI_ERR_INPUT_CLOSED: 'wsgi.input was read after its request ended',
  TSGI_ERR_OPTION_INVALID: 'an option has a value of the wrong type or out of range',
  TSGI_ERR_OPTION_UNKNOWN: 'an option that tsgi does not know',
  TSGI_ERR_OPTION_REFUSED: 'a uWSGI option that tsgi refuses (its verdict in the option table), with what to use instead',
  TSGI_ERR_CONFIG: 'a config file (--ini, --yaml, --json) cannot be read or parsed, with its file:line',
  TSGI_ERR_APP_NOT_FOUND: 'the application file or module cannot be found',
  TSGI_ERR_APP_NO_CALLABLE: 'the application module has no such callable',
  TSGI_ERR_APP_LOAD: 'the application failed while loading',
  TSGI_ERR_APP_PYTHON: 'the application named is a Python file',
  TSGI_ERR_INTERFACE: 'the application cannot be served through the interface chosen (--interface), or no such interface exists',
  TSGI_ERR_FETCH_RESPONSE: 'a fetch application returned something that is not a Response',
  TSGI_ERR_LISTEN: 'a socket could not be bound',
  TSGI_ERR_ADDRESS_INVALID: 'a socket address could not be parsed',
  TSGI_ERR_NATIVE_MISSING: 'no native addon fits this platform, or the one found cannot be loaded',
  TSGI_ERR_NATIVE_VERSION: 'the native addon found speaks another version of the wire contract than this lib/ (built from other sources)',
  TSGI_ERR_NATIVE_SETTINGS: 'the native Server was given settings without a key it requires, or of the wrong type (raised by the addon)',
  TSGI_ERR_NODE_DESTROYED: 'a node interface application destroyed its response before it was complete',
  TSGI_ERR_UPGRADE: 'tsgi.upgrade() cannot take the connection: the request offered no upgrade, the response has begun, it was called twice, or the client went away',
  TSGI_ERR_WEBSOCKET_HANDSHAKE: "a WebSocket handshake was refused (not GET, no Upgrade: websocket, a bad Sec-WebSocket-Key or -Version): the client gets 400",
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** The brand of every TsgiError, whichever copy of tsgi made it (see hasInstance below). */
const kTsgiError = Symbol.for('tsgi.error');

export class TsgiError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TsgiError';
    this.code = code;
  }

  /**
   * `err instanceof TsgiError` holds for an error of any copy of tsgi's modules: the
   * command runs its bundle (dist/lib/bundle/), and an application that imports
   * TsgiError from 'tsgi' gets dist/lib/'s class; each recognises the other's errors.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // A subclass (ConfigError) inherits this method: it asks the prototype chain, as usual.
    if (this !== TsgiError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [kTsgiError]?: boolean })[kTsgiError] === true;
  }
}
Object.defineProperty(TsgiError.prototype, kTsgiError, { value: true });
