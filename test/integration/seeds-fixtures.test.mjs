// The seeds' configurations are the fixtures: every ini block of ../shared/seeds (uWSGI
// configs from Russian and Chinese articles) is a fixture in test/fixtures/seeds/,
// byte-identical but for the application paths (a TypeScript application of
// test/fixtures/seeds/) and the socket paths and ports (temp paths, port 0).
// test/integration/seeds-run.test.mjs runs them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, ROOT } from '../lib/project.mjs';

const SEEDS = join(ROOT, '..', 'shared', 'seeds');
const FIX = join(FIXTURES, 'seeds');

/** The substitutions that make a seed's block a fixture: application paths, socket paths and ports. */
const SUBSTITUTIONS = {
  '000_d9b73b7138dba63f-block1.ini': [
    ['wsgi-file = project/wsgi.py', 'wsgi-file = project/wsgi.ts'],
    ['socket = :8000  #', 'socket = :0  #'],
  ],
  '001_76656e4508ad7551-block1.ini': [],
  '003_46280d4c568a3ab0-block1.ini': [
    ['socket = 127.0.0.1:8001', 'socket = 127.0.0.1:0'],
    ['chdir = /var/www/cmpvirtmgr/', 'chdir = %d003/'],
    ['pidfile = /etc/uwsgi/uwsgi.pid', 'pidfile = $(SEED_RUN_DIR)/uwsgi.pid'],
  ],
  '004_13d24b601fdb1b80-block1.ini': [],
  '004_13d24b601fdb1b80-block2.ini': [
    ['wsgi-file = /app/routes.py', 'wsgi-file = %d004/routes.ts'],
    ['socket = /run/uwsgi.sock', 'socket = $(SEED_RUN_DIR)/uwsgi.sock'],
  ],
};

/** The fenced code blocks of a markdown text that hold an ini section header, verbatim. */
function iniBlocks(text) {
  const out = [];
  let open;
  let lines = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(`{3,})(.*)$/.exec(line);
    if (open === undefined && m) {
      open = m[1];
      lines = [];
    } else if (open !== undefined && m && m[1] === open && m[2].trim() === '') {
      if (lines.some((l) => /^\s*\[[^\]]+\]\s*$/.test(l))) out.push(lines.join('\n') + '\n');
      open = undefined;
    } else if (open !== undefined) {
      lines.push(line);
    }
  }
  return out;
}

describe('the seeds\' ini blocks are the fixtures', () => {
  test('every ini block of ../shared/seeds is a fixture, byte-identical but for the application and socket paths', { skip: existsSync(SEEDS) ? false : `no seeds at ${SEEDS}` }, () => {
    const names = [];
    for (const seed of readdirSync(SEEDS).filter((f) => f.endsWith('.txt')).sort()) {
      iniBlocks(readFileSync(join(SEEDS, seed), 'utf8')).forEach((block, i) => {
        const name = `${seed.replace(/\.txt$/, '')}-block${i + 1}.ini`;
        names.push(name);
        assert.ok(SUBSTITUTIONS[name] !== undefined, `${name} has its substitutions listed`);
        let expected = block;
        for (const [from, to] of SUBSTITUTIONS[name]) {
          assert.ok(expected.includes(from), `${name}: the seed has ${JSON.stringify(from)}`);
          expected = expected.replace(from, to);
        }
        assert.equal(readFileSync(join(FIX, name), 'utf8'), expected, `test/fixtures/seeds/${name}`);
      });
    }
    assert.deepEqual(names.sort(), Object.keys(SUBSTITUTIONS).sort(), 'one fixture per block');
    assert.deepEqual(readdirSync(FIX).filter((f) => f.endsWith('.ini')).sort(), names.sort(), 'no other fixture');
  });
});
