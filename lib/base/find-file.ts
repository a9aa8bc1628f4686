// Looking for files on disk, for the loader and the reloader: whether a path is a
// regular file, and the nearest file of a name from a directory upwards (package.json,
// tsconfig.json), as Node and tsc look for them.
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** True when p names a regular file (or a link to one); false when it is missing or anything else. */
export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The first file named name in dir or a directory above it; undefined when there is none up to the root. */
export function findUp(dir: string, name: string): string | undefined {
  for (;;) {
    const candidate = join(dir, name);
    if (isFile(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
