// wsgi.errors: a text stream to the server's log (stderr, or --logto's file).
import { writeSync } from 'node:fs';
import type { ErrorStream } from './types.js';

export class ErrorLog implements ErrorStream {
  constructor(private readonly fd: number = 2) {}

  write(s: string | Uint8Array): void {
    try {
      if (typeof s === 'string') writeSync(this.fd, s);
      else writeSync(this.fd, s);
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
