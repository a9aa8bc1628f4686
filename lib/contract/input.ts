// wsgi.input: the request body, already buffered by the server (in memory, or in an
// unlinked temporary file past post-buffering), so every read is synchronous and
// none reads past CONTENT_LENGTH.
import { readSync } from 'node:fs';
import { TsgiError } from '../base/errors.js';
import type { InputStream } from './types.js';

const EMPTY = Buffer.alloc(0);
const LINE_BLOCK = 8192;
const ASYNC_BLOCK = 65536;

export class Input implements InputStream {
  private pos = 0;
  private closed = false;
  private readonly memory: Buffer | undefined;
  private readonly fd: number;
  readonly length: number;

  /** body: the bytes, or the fd of a file holding length bytes, or undefined for none. */
  constructor(body: Buffer | number | undefined, length: number) {
    if (typeof body === 'number') {
      this.fd = body;
      this.memory = undefined;
      this.length = length;
    } else {
      this.fd = -1;
      this.memory = body;
      this.length = body === undefined ? 0 : body.length;
    }
  }

  /** Called by the server when the request ends: the fd is closed after this. */
  close(): void {
    this.closed = true;
  }

  private check(): void {
    if (this.closed) {
      throw new TsgiError('TSGI_ERR_INPUT_CLOSED', 'wsgi.input was read after its request ended');
    }
  }

  /** Copies n bytes at offset at from the file. */
  private readFile(at: number, n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, out, got, n - got, at + got);
      if (r === 0) break;
      got += r;
    }
    return got === n ? out : out.subarray(0, got);
  }

  private slice(at: number, n: number): Buffer {
    if (n <= 0) return EMPTY;
    return this.memory !== undefined ? this.memory.subarray(at, at + n) : this.readFile(at, n);
  }

  read(size?: number): Buffer {
    this.check();
    const left = this.length - this.pos;
    const n = size === undefined || size === null || size < 0 || size > left ? left : Math.floor(size);
    const out = this.slice(this.pos, n);
    this.pos += out.length;
    return out;
  }

  readline(size?: number): Buffer {
    this.check();
    const left = this.length - this.pos;
    const limit = size === undefined || size === null || size < 0 || size > left ? left : Math.floor(size);
    if (limit <= 0) return EMPTY;
    if (this.memory !== undefined) {
      const nl = this.memory.indexOf(10, this.pos);
      const end = nl === -1 || nl - this.pos + 1 > limit ? this.pos + limit : nl + 1;
      const out = this.memory.subarray(this.pos, end);
      this.pos = end;
      return out;
    }
    const parts: Buffer[] = [];
    let taken = 0;
    while (taken < limit) {
      const block = this.readFile(this.pos + taken, Math.min(LINE_BLOCK, limit - taken));
      if (block.length === 0) break;
      const nl = block.indexOf(10);
      if (nl !== -1) {
        parts.push(block.subarray(0, nl + 1));
        taken += nl + 1;
        break;
      }
      parts.push(block);
      taken += block.length;
    }
    this.pos += taken;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, taken);
  }

  readlines(hint?: number): Buffer[] {
    const lines: Buffer[] = [];
    let total = 0;
    for (;;) {
      const line = this.readline();
      if (line.length === 0) break;
      lines.push(line);
      total += line.length;
      if (hint !== undefined && hint !== null && hint > 0 && total >= hint) break;
    }
    return lines;
  }

  *[Symbol.iterator](): Iterator<Buffer> {
    for (;;) {
      const line = this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const block = this.read(ASYNC_BLOCK);
      if (block.length === 0) return;
      yield block;
    }
  }
}
