// lib/contract/transport.ts headText(): the text of a response head, kept while the next
// heads are the same. Whatever it keeps, each head's text is its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headText } from '../../dist/lib/contract/transport.js';

const plain = (status, headers) => status + '\r\n' + headers.reduce((s, v, i) => (i % 2 ? s + v + '\r\n' : s + v + ': '), '');

test('a head is its status and its header lines, each ending in CRLF', () => {
  assert.equal(headText('200 OK', ['Content-Type', 'text/plain', 'X-A', '1']), '200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\n');
  assert.equal(headText('204 No Content', []), '204 No Content\r\n');
});

test('the same head again is the same text, made once', () => {
  const a = headText('200 OK', ['Content-Type', 'text/plain']);
  const b = headText('200 OK', ['Content-Type', 'text/plain']);
  assert.equal(b, a);
});

test('a head that differs from the last in any one part is its own text', () => {
  const base = ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'X-Id', '7'];
  const heads = [['200 OK', base]];
  heads.push(['404 Not Found', base]);
  for (let i = 0; i < base.length; i++) heads.push(['200 OK', base.map((v, j) => (j === i ? v + 'x' : v))]);
  heads.push(['200 OK', base.slice(0, 4)]);
  heads.push(['200 OK', [...base, 'X-More', 'y']]);
  heads.push(['200 OK', Array.from({ length: 40 }, (_, i) => `h${i}`)]); // more than it keeps
  heads.push(['200 OK', Array.from({ length: 40 }, (_, i) => `h${i}`)]);
  heads.push(['200 OK', base]);
  // Each after each: the kept head is always the last one, whatever it was.
  for (const [s1, h1] of heads) {
    for (const [s2, h2] of heads) {
      headText(s1, h1);
      assert.equal(headText(s2, h2), plain(s2, h2), `${s2} ${h2} after ${s1} ${h1}`);
    }
  }
});

test('an array changed after its head was made does not change the next head', () => {
  const h = ['Content-Type', 'text/plain'];
  headText('200 OK', h);
  h[1] = 'text/html';
  assert.equal(headText('200 OK', h), '200 OK\r\nContent-Type: text/html\r\n');
});
