// An unlinked temporary file: it holds a spooled request body and vanishes with its
// descriptor, whatever way the request or the process ends.
import { openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { nodeCrypto } from './lazy-require.js';

export function openTempFile(dir: string): number {
  const path = join(dir, `tsgi-body-${process.pid}-${nodeCrypto().randomBytes(6).toString('hex')}`);
  const fd = openSync(path, 'wx+', 0o600);
  unlinkSync(path);
  return fd;
}
