// The package itself: where it is installed and its version.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root: three levels above dist/lib/base/. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const VERSION: string = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
