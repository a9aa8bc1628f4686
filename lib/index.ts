// tsgi's public API.
// Its types use Node's (Buffer, AbortSignal, NodeJS.*): the reference brings @types/node
// (a dependency of the package) into the program of whoever imports tsgi, also where
// the compiler does not add @types/* by itself (TypeScript 6 and later: "types" is []).
// preserve="true" keeps it in dist/lib/index.d.ts (TypeScript 5.5 and later drop it otherwise).
/// <reference types="node" preserve="true" />
export { serve } from './serve.js';
export type { ServeOptions } from './serve.js';
export type { Server, BoundAddress } from './backend/backend.js';
export { loadApplication } from './load/loader.js';
export { validate, checkEnviron } from './contract/validate.js';
export { makeServer } from './make-server.js';
export { fromNodeListener, fromNodeServer, nodeListenerOf } from './interfaces/node.js';
export type { NodeListener } from './interfaces/node.js';
export type { WsgirefServer } from './make-server.js';
export { TsgiError, ErrorCodes } from './base/errors.js';
export type { ErrorCode } from './base/errors.js';
export { OPTIONS } from './config/options.js';
export type { FetchApplication, FetchHandler } from './interfaces/fetch.js';
export { VERSION } from './base/package.js';
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
} from './contract/types.js';
