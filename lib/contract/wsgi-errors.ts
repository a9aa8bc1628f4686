// wsgi.errors: a text stream to the server's log (stderr, or --logto's file, or serve()'s
// errorLog).
import { writeSync } from 'node:fs';
import type { ErrorStream } from './types.js';

/** Where an ErrorLog writes: a file descriptor, or a function of serve()'s caller (errorLog). */
export type ErrorSink = number | ((text: string | Uint8Array) => void);

export class ErrorLog implements ErrorStream {
  constructor(private readonly sink: ErrorSink = 2) {}

  write(s: string | Uint8Array): void {
    try {
      if (typeof this.sink === 'function') this.sink(s);
      else if (typeof s === 'string') writeSync(this.sink, s);
      else writeSync(this.sink, s);
    } catch {
      // A log that cannot be written must not take the request down with it.
    }
  }

  writelines(lines: Iterable<string | Uint8Array>): void {
    for (const line of lines) this.write(line);
  }

  flush(): void {
    // Every write is synchronous: nothing is held back.
  }
}
