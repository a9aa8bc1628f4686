// An unlinked temporary file: it holds a spooled request body and vanishes with its
// descriptor, whatever way the request or the process ends.
import { openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { lazyRequire } from './lazy-require.js';

// node:crypto costs a process 5-10 ms to load: it is loaded with the first spooled body.
const crypto = lazyRequire<typeof import('node:crypto')>('node:crypto');

export function openTempFile(dir: string): number {
  const path = join(dir, `tsgi-body-${process.pid}-${crypto().randomBytes(6).toString('hex')}`);
  const fd = openSync(path, 'wx+', 0o600);
  unlinkSync(path);
  return fd;
}
