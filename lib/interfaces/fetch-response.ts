// A lightweight Response for fetch applications. Node's Response (undici) makes a
// ReadableStream for every body as it is constructed, and reading it back takes
// several promise turns: ~20 µs a response, more than the rest of a request through
// tsgi. installLightResponse() replaces globalThis.Response with a class that keeps
// what it was given (body and init) and makes the real Response only when something
// only a real one has is asked for (body, text(), clone() ...). Its instances, and the
// real ones, pass `instanceof Response`; its static methods are Response's. The fetch
// adapter (fetch.ts) sends a light Response whose body is a string or bytes in one
// send, without a stream. @hono/node-server replaces the global the same way.
//
// The class is made on first use, not when this module loads: touching
// globalThis.Response loads undici, whose HTTP parser is WebAssembly that reserves
// gigabytes of address space (a worker under --limit-as could not start) and costs
// milliseconds at start-up, for applications that are not fetch ones.
import { delegateTheRest } from './delegate.js';

type HeadersInit = ConstructorParameters<typeof Headers>[0];
type BodyInit = ConstructorParameters<typeof Response>[0];

/** A light Response's state, for the adapter: undefined once a real Response exists. */
export interface LightState {
  status: number;
  statusText: string;
  /** A string, bytes, or null. */
  body: string | Uint8Array | null;
  /** Headers as given (plain object, list of pairs), or the Headers made from them. */
  headers: HeadersInit | undefined;
}

const kState = Symbol('tsgi.lightResponse');
const kReal = Symbol('tsgi.realResponse');

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

function plainBody(body: unknown): body is string | Uint8Array | null | undefined {
  return body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array;
}

/** The light Response class over RealResponse (the global when it is made). */
function makeLightResponse(RealResponse: typeof Response) {
  return class LightResponse {
    declare [kState]: LightState | undefined;
    declare [kReal]: Response | undefined;
    #body: BodyInit | null | undefined;
    #init: ResponseInit | undefined;

    constructor(body?: BodyInit | null, init?: ResponseInit) {
      this.#body = body;
      this.#init = init;
      this[kReal] = undefined;
      const status = init?.status ?? 200;
      if (plainBody(body) && Number.isInteger(status) && status >= 200 && status <= 599 && !(body != null && NULL_BODY_STATUS.has(status))) {
        let headers = init?.headers;
        if (typeof body === 'string' && !hasContentType(headers)) {
          headers = withHeader(headers, 'content-type', 'text/plain;charset=UTF-8');
        }
        this[kState] = { status, statusText: init?.statusText ?? '', body: body ?? null, headers };
      } else {
        this[kState] = undefined;
        this.#real(); // the real constructor's checks and errors, at once
      }
    }

    /** The real Response, made once from what this one was given. */
    #real(): Response {
      let real = this[kReal];
      if (real !== undefined) return real;
      const state = this[kState];
      const init = state === undefined ? this.#init : { status: state.status, statusText: state.statusText, headers: state.headers };
      real = new RealResponse(this.#body, init);
      this[kReal] = real;
      this[kState] = undefined;
      return real;
    }

    get status(): number {
      return this[kState]?.status ?? this.#real().status;
    }

    get ok(): boolean {
      const s = this.status;
      return s >= 200 && s <= 299;
    }

    get statusText(): string {
      return this[kState]?.statusText ?? this.#real().statusText;
    }

    get headers(): Headers {
      const state = this[kState];
      if (state === undefined) return this.#real().headers;
      if (!(state.headers instanceof Headers)) state.headers = new Headers(state.headers);
      return state.headers;
    }

    static {
      delegateTheRest(LightResponse, RealResponse, (self) => self.#real());
      Object.setPrototypeOf(LightResponse, RealResponse); // Response.json(), .redirect(), .error()
      Object.defineProperty(LightResponse, Symbol.hasInstance, {
        value(this: unknown, v: unknown): boolean {
          if (this === LightResponse) return v instanceof RealResponse; // both kinds
          return Function.prototype[Symbol.hasInstance].call(this, v);
        },
      });
      Object.defineProperty(LightResponse, 'name', { value: 'Response' });
    }
  };
}

type LightResponseClass = ReturnType<typeof makeLightResponse>;
let LightResponse: LightResponseClass | undefined;

function hasContentType(h: HeadersInit | undefined): boolean {
  if (h === undefined) return false;
  if (h instanceof Headers) return h.has('content-type');
  if (Array.isArray(h)) return h.some((p) => String(p[0]).toLowerCase() === 'content-type');
  for (const k in h) if (k.length === 12 && k.toLowerCase() === 'content-type') return true;
  return false;
}

function withHeader(h: HeadersInit | undefined, name: string, value: string): HeadersInit {
  if (h === undefined) return { [name]: value };
  const out = new Headers(h);
  out.set(name, value);
  return out;
}

/**
 * A light Response's state when nothing made it real: its status, headers as given
 * and plain body. undefined for anything else (a real Response, a stream body ...).
 */
export function lightState(res: unknown): LightState | undefined {
  return LightResponse !== undefined && res instanceof LightResponse ? res[kState] : undefined;
}

/** Makes globalThis.Response the light one (once). */
export function installLightResponse(): void {
  LightResponse ??= makeLightResponse(globalThis.Response);
  if (globalThis.Response !== (LightResponse as unknown as typeof Response)) {
    Object.defineProperty(globalThis, 'Response', { value: LightResponse, writable: true, configurable: true });
  }
}
