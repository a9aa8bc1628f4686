// wsgi.file_wrapper: turns an open file into a body iterable that reads it block by
// block, and closes it when the server closes the body.
import { closeSync, readSync } from 'node:fs';
import { TsgiError } from '../base/errors.js';
import type { FileLike } from './types.js';

export class FileWrapper implements Iterable<Uint8Array> {
  private done = false;

  constructor(
    readonly file: FileLike,
    readonly blockSize: number = 8192,
  ) {
    const ok =
      typeof file === 'number' ||
      (typeof file === 'object' &&
        file !== null &&
        (typeof (file as { fd?: unknown }).fd === 'number' ||
          typeof (file as { read?: unknown }).read === 'function'));
    if (!ok) {
      throw new TsgiError(
        'TSGI_ERR_BODY_TYPE',
        'wsgi.file_wrapper expects a file descriptor, an object with an fd, or an object with read(size)',
      );
    }
  }

  *[Symbol.iterator](): Iterator<Uint8Array> {
    const f = this.file;
    if (typeof f === 'object' && typeof (f as { read?: unknown }).read === 'function' && typeof (f as { fd?: unknown }).fd !== 'number') {
      const reader = f as { read(size: number): Uint8Array | string };
      while (!this.done) {
        const block = reader.read(this.blockSize);
        const bytes = typeof block === 'string' ? Buffer.from(block, 'latin1') : block;
        if (bytes.length === 0) return;
        yield bytes;
      }
      return;
    }
    const fd = typeof f === 'number' ? f : (f as { fd: number }).fd;
    while (!this.done) {
      const buf = Buffer.allocUnsafe(this.blockSize);
      const n = readSync(fd, buf, 0, this.blockSize, null);
      if (n === 0) return;
      yield n === this.blockSize ? buf : buf.subarray(0, n);
    }
  }

  /** Called once by the server when the response ends, however it ends. */
  close(): void {
    if (this.done) return;
    this.done = true;
    const f = this.file;
    if (typeof f === 'number') {
      try {
        closeSync(f);
      } catch {
        // already closed by the application
      }
    } else if (typeof f.close === 'function') {
      const r = f.close();
      if (r && typeof (r as Promise<unknown>).catch === 'function') (r as Promise<unknown>).catch(() => {});
    }
  }
}

export function fileWrapper(file: FileLike, blockSize?: number): FileWrapper {
  return new FileWrapper(file, blockSize);
}
