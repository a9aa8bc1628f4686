// The application contract: PEP 3333 carried over to TypeScript (docs/spec.md).
import type { EventEmitter } from 'node:events';

/** A body chunk. A string is sent as UTF-8. */
export type Chunk = Uint8Array | string;

/** What an application returns: any iterable or async iterable of chunks. */
export type Body = Iterable<Chunk> | AsyncIterable<Chunk>;

/** Response headers: a list of [name, value] pairs, in order, repeats allowed. */
export type Headers = Array<[name: string, value: string]>;

/** The legacy imperative write callable that start_response returns. */
export type Write = (chunk: Chunk) => void;

export type StartResponse = (status: string, headers: Headers, excInfo?: unknown) => Write;

/**
 * wsgi.input: the request body, buffered before the application is called. Reads
 * return Node Buffers (Uint8Arrays): read().toString() is the body as UTF-8.
 */
export interface InputStream extends Iterable<Buffer>, AsyncIterable<Buffer> {
  /** Up to size bytes (all that is left when size is absent or negative); empty at the end. */
  read(size?: number): Buffer;
  /** One line, "\n" included, of at most size bytes; empty at the end. */
  readline(size?: number): Buffer;
  /** Lines until the end, or until their total passes hint bytes. */
  readlines(hint?: number): Buffer[];
}

/** wsgi.errors: a text stream to the server's log. */
export interface ErrorStream {
  write(s: string | Uint8Array): void;
  writelines(lines: Iterable<string | Uint8Array>): void;
  flush(): void;
}

export type FileWrapper = (file: FileLike, blockSize?: number) => Iterable<Uint8Array>;

/** What wsgi.file_wrapper accepts: an open file descriptor, an object with a numeric fd
 * (fs.promises' FileHandle), or anything with read(size). */
export type FileLike =
  | number
  | { fd: number; close?: () => unknown }
  | { read(size: number): Uint8Array | string; close?: () => unknown };

/**
 * What tsgi.upgrade() resolves to: the connection, now the application's (a real
 * net.Socket), and the bytes the server read past the request (the new protocol's first).
 */
export interface Upgraded {
  socket: import('node:net').Socket;
  head: Buffer;
}

/**
 * The `ws` package's WebSocket, as far as tsgi's own types name it (so that an
 * application's types need no @types/ws): cast to ws's WebSocket for the rest.
 */
export interface RawWebSocket extends EventEmitter {
  readonly readyState: number;
  readonly protocol: string;
  readonly bufferedAmount: number;
  send(data: string | Uint8Array | ArrayBuffer, options?: { binary?: boolean; compress?: boolean }, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string | Buffer): void;
  ping(data?: string | Uint8Array, mask?: boolean, cb?: (err: Error) => void): void;
  terminate(): void;
  pause(): void;
  resume(): void;
}

/** A WebSocket accepted through tsgi.websocket (lib/contract/websocket.ts). */
export interface WebSocketConnection extends AsyncIterable<string | Buffer> {
  /** The subprotocol chosen ('' for none). */
  readonly protocol: string;
  /** The next message (a string for a text frame, a Buffer for a binary one); undefined once closed. */
  receive(): Promise<string | Buffer | undefined>;
  /**
   * Sends a message: a string as a text frame, bytes as a binary one (a Uint8Array, or any
   * typed array or DataView: its bytes, as ws sends them). Resolves at once, or once the
   * output drained when much waits in it; never rejects.
   */
  send(data: string | ArrayBufferView): Promise<void>;
  /** Starts the closing handshake (code 1000 by default). */
  close(code?: number, reason?: string): void;
  /**
   * Resolves when the connection is closed, with the close code and reason received, or
   * the code tsgi closed with for the client's protocol error (1002, 1007, 1009: the
   * reason is the error), or 1006 when the connection ended without a close frame.
   */
  readonly closed: Promise<{ code: number; reason: string }>;
  /**
   * The `ws` WebSocket underneath; on the native backend, whose server keeps the
   * connection, an object with the same members (its 'message' listeners, when it has
   * any, take the messages instead of receive() and the iteration).
   */
  readonly raw: RawWebSocket;
}

/** tsgi.websocket: on a request that offers a WebSocket upgrade. */
export interface WebSocketOffer {
  /**
   * Completes the handshake (101) and takes the connection. protocol: the subprotocol to
   * accept, one the client offered (by default the first it offered, as `ws` chooses). Throws TSGI_ERR_WEBSOCKET_HANDSHAKE for a request
   * that is no valid handshake (the client then gets 400, unless the application answers).
   */
  handshake(options?: { protocol?: string }): Promise<WebSocketConnection>;
  /** The same handshake, giving the `ws` WebSocket itself (its events, for a library of its own). */
  accept(options?: { protocol?: string }): Promise<RawWebSocket>;
}

export interface Environ {
  REQUEST_METHOD: string;
  SCRIPT_NAME: string;
  PATH_INFO: string;
  QUERY_STRING: string;
  CONTENT_TYPE: string;
  CONTENT_LENGTH: string;
  SERVER_NAME: string;
  SERVER_PORT: string;
  SERVER_PROTOCOL: string;
  REQUEST_URI: string;
  REMOTE_ADDR: string;
  REMOTE_PORT: string;
  'wsgi.version': [1, 0];
  'wsgi.url_scheme': string;
  'wsgi.input': InputStream;
  'wsgi.errors': ErrorStream;
  'wsgi.multithread': boolean;
  'wsgi.multiprocess': boolean;
  'wsgi.run_once': boolean;
  'wsgi.file_wrapper': FileWrapper;
  /** Fires when the client goes away before the response is complete. */
  'tsgi.signal': AbortSignal;
  /**
   * On a request that offers to switch protocols (HTTP/1.1, Upgrade and Connection:
   * upgrade) over HTTP: takes the connection. The application then calls no
   * start_response and returns an empty body; the server reads and writes nothing more
   * on the connection.
   */
  'tsgi.upgrade'?: () => Promise<Upgraded>;
  /** On a request that offers a WebSocket (Upgrade: websocket): the handshake, uWSGI's way. */
  'tsgi.websocket'?: WebSocketOffer;
  [key: string]: unknown;
}

export type Application = (environ: Environ, startResponse: StartResponse) => Body | Promise<Body>;
