// A request body as the pure-JS backend buffers it, over HTTP and over uwsgi alike: in
// memory up to post-buffering, then in an unlinked temporary file; limit-post refuses
// it with a 413, a temporary file that cannot be opened or written with a 500 and a
// reason worded as the native server words it.
import { closeSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describeSystemError } from '../protocol/request-log.js';
import { openTempFile } from '../base/temp-file.js';

export class BodyBuffer {
  private parts: Buffer[] = [];
  /** The bytes taken so far. */
  size = 0;
  /** The temporary file's descriptor once the body went there, else -1. */
  fd = -1;
  /** Why add() or spill() refused the body (the refusal line's text). */
  why = '';

  constructor(
    private readonly postBuffering: number,
    private readonly limitPost: number,
  ) {}

  /** Takes a piece of the body: 0, or the status to refuse the request with (413, 500; the buffer is closed, why says why). */
  add(chunk: Buffer): number {
    this.size += chunk.length;
    if (this.limitPost > 0 && this.size > this.limitPost) {
      this.close();
      this.why = 'body over limit-post';
      return 413;
    }
    if (this.fd < 0 && this.size > this.postBuffering) {
      const status = this.spill();
      if (status !== 0) return status;
    }
    if (this.fd < 0) {
      this.parts.push(chunk);
      return 0;
    }
    return this.write(chunk);
  }

  /** Opens the temporary file and moves what is in memory there: 0, or 500 (closed, why says why). */
  spill(): number {
    try {
      this.fd = openTempFile(tmpdir());
    } catch (err) {
      return this.fail('open', err);
    }
    for (const p of this.parts) if (this.write(p) !== 0) return 500;
    this.parts.length = 0;
    return 0;
  }

  /** The body for Handler.onRequest: the descriptor (still open, see close()), the bytes, or undefined when empty. */
  take(): Buffer | number | undefined {
    if (this.fd >= 0) return this.fd;
    if (this.size === 0) return undefined;
    const body = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size);
    this.parts.length = 0;
    return body;
  }

  /** Drops the body: the temporary file is closed (it vanishes), what is in memory let go. Safe to call again. */
  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
    this.parts.length = 0;
  }

  private write(chunk: Buffer): number {
    try {
      writeSync(this.fd, chunk);
      return 0;
    } catch (err) {
      return this.fail('write to a temporary file', err);
    }
  }

  /** No temporary directory, no space, an I/O error: a 500 for this request alone. */
  private fail(call: string, err: unknown): number {
    this.close();
    this.why = `cannot buffer the request body: ${call} in ${tmpdir()}: ${describeSystemError(err)}`;
    return 500;
  }
}
