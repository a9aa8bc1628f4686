// tsgi's public API.
export { serve } from './serve.js';
export type { Server, ServeOptions, BoundAddress } from './serve.js';
export { loadApplication } from './loader.js';
export { validate, checkEnviron } from './validate.js';
export { makeServer } from './make-server.js';
export { fromNodeListener, nodeListenerOf } from './interfaces/node.js';
export type { NodeListener } from './interfaces/node.js';
export type { WsgirefServer } from './make-server.js';
export { TsgiError, ErrorCodes } from './errors.js';
export type { ErrorCode } from './errors.js';
export { OPTIONS } from './options.js';
export { VERSION } from './version.js';
export type {
  Application,
  Body,
  Chunk,
  Environ,
  ErrorStream,
  FileLike,
  Headers,
  InputStream,
  StartResponse,
  Write,
} from './types.js';
