// Where the project's pieces are, for the tests: the checkout, the fixtures, the CLI,
// and the two backends every suite that serves runs against.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const CLI = join(ROOT, 'bin', 'tsgi.js');
// TSGI_TEST_BACKENDS=native narrows them: npm test's sanitized pass (test/run.mjs) runs
// the suites against the sanitized addon, which the js backend does not load.
export const BACKENDS = process.env.TSGI_TEST_BACKENDS ? process.env.TSGI_TEST_BACKENDS.split(',') : ['native', 'js'];
