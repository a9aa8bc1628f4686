// lib/interfaces/: the registry's choices and refusals, the Request made from an
// environ, and the light Response that replaces globalThis.Response under the fetch
// interface (it must behave as the standard one wherever an application can tell).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveInterface } from '../../dist/lib/interfaces/index.js';
import { requestUrl, LazyRequest, BadTarget } from '../../dist/lib/interfaces/fetch-request.js';
import { installLightResponse, lightState } from '../../dist/lib/interfaces/fetch-response.js';
import { Input } from '../../dist/lib/contract/input.js';

const RealResponse = globalThis.Response;

function environ(over = {}) {
  return {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/p',
    QUERY_STRING: '',
    REQUEST_URI: '/p',
    CONTENT_TYPE: '',
    CONTENT_LENGTH: '',
    SERVER_NAME: 'srv',
    SERVER_PORT: '8080',
    HTTP_HOST: 'h.test',
    'wsgi.url_scheme': 'http',
    'wsgi.input': new Input(undefined, 0),
    ...over,
  };
}

test('auto: an object with fetch is fetch; Express, Koa, Fastify are node; any other function is wsgi; anything else is refused', async () => {
  const wsgi = () => [];
  assert.equal((await resolveInterface(wsgi)).name, 'wsgi');
  assert.equal((await resolveInterface(wsgi)).app, wsgi);
  assert.equal((await resolveInterface(wsgi)).description, 'wsgi (auto: a function)');
  const f = await resolveInterface({ fetch: () => new Response('x') });
  assert.equal(f.name, 'fetch');
  assert.equal(f.description, 'fetch (auto: an object with a fetch method)');
  assert.equal(typeof f.app, 'function');
  const express = Object.assign((req, res) => res.end(), { handle() {}, listen() {} });
  assert.equal((await resolveInterface(express)).description, 'node (auto: an Express or connect application)');
  const koa = { callback: () => (req, res) => res.end(), use() {} };
  assert.equal((await resolveInterface(koa)).description, 'node (auto: a Koa application)');
  let readied = 0;
  const fastify = { routing: (req, res) => res.end(), ready: async () => void readied++ };
  assert.equal((await resolveInterface(fastify)).description, 'node (auto: a Fastify instance)');
  assert.equal(readied, 1, 'a Fastify instance is served once ready() resolved');
  await assert.rejects(resolveInterface({ a: 1 }, 'auto', 'app.mjs'), { code: 'TSGI_ERR_INTERFACE', message: /^app\.mjs is an object without a fetch method/ });
  await assert.rejects(resolveInterface(42), { code: 'TSGI_ERR_INTERFACE' });
});

test('chosen by hand: fetch takes a bare function too; wsgi refuses an object with fetch or a framework; node takes a plain listener', async () => {
  assert.equal((await resolveInterface(() => new Response(''), 'fetch')).name, 'fetch');
  await assert.rejects(resolveInterface({ fetch() {} }, 'wsgi', 'x.mjs'), { code: 'TSGI_ERR_INTERFACE', message: /did you mean --interface fetch\?$/ });
  await assert.rejects(resolveInterface({ callback() {}, use() {} }, 'wsgi', 'x.mjs'), { code: 'TSGI_ERR_INTERFACE', message: /did you mean --interface node\?$/ });
  await assert.rejects(resolveInterface({ nofetch: 1 }, 'fetch'), { code: 'TSGI_ERR_INTERFACE', message: /expected an object with a fetch\(request\) method/ });
  await assert.rejects(resolveInterface({ fetch() {} }, 'node'), { code: 'TSGI_ERR_INTERFACE', message: /did you mean --interface fetch\?$/ });
  const plain = await resolveInterface((req, res) => res.end(), 'node');
  assert.equal(plain.name, 'node');
  assert.equal(typeof plain.app, 'function');
});

test('requestUrl: from the raw target and the Host; SERVER_NAME and SERVER_PORT without a Host', () => {
  assert.equal(requestUrl(environ({ REQUEST_URI: '/a%20b?x=%2F' })), 'http://h.test/a%20b?x=%2F');
  assert.equal(requestUrl(environ({ HTTP_HOST: undefined })), 'http://srv:8080/p');
  assert.equal(requestUrl(environ({ HTTP_HOST: undefined, SERVER_PORT: '443', 'wsgi.url_scheme': 'https' })), 'https://srv/p');
  assert.equal(requestUrl(environ({ HTTP_HOST: 'H.Test:81', REQUEST_URI: '/a/../b' })), 'http://h.test:81/b');
  assert.equal(requestUrl(environ({ REQUEST_URI: '/\xe9' })), 'http://h.test/%E9');
  assert.equal(requestUrl(environ({ REQUEST_URI: 'http://other.test/x?y' })), 'http://other.test/x?y');
  // No REQUEST_URI (a front end that does not send it): SCRIPT_NAME + PATH_INFO, quoted.
  assert.equal(requestUrl(environ({ REQUEST_URI: '', SCRIPT_NAME: '/app', PATH_INFO: '/a?b', QUERY_STRING: 'q=1' })), 'http://h.test/app/a%3Fb?q=1');
  for (const host of ['a/b', 'a@b', 'a b', 'a\\b']) assert.throws(() => requestUrl(environ({ HTTP_HOST: host })), BadTarget, host);
});

test('LazyRequest: a Request by instanceof and by every property, its body read from wsgi.input', async () => {
  const body = Buffer.from('{"a":[1,2]}');
  const e = environ({ REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(body.length), HTTP_X_TWO: 'a, b', 'wsgi.input': new Input(body, 0) });
  const controller = new AbortController();
  Object.defineProperty(e, 'tsgi.signal', { get: () => controller.signal });
  const r = new LazyRequest(e, 'http://h.test/p');
  assert.ok(r instanceof Request);
  assert.equal(r.method, 'POST');
  assert.equal(r.url, 'http://h.test/p');
  assert.equal(r.headers.get('x-two'), 'a, b');
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.equal(r.headers.get('host'), 'h.test');
  assert.equal(r.cache, 'default'); // from the real Request, made on demand
  assert.equal(r.bodyUsed, false);
  assert.deepEqual(await r.json(), { a: [1, 2] });
  assert.equal(r.bodyUsed, true);
  await assert.rejects(r.text(), TypeError);
  assert.equal(r.signal.aborted, false);
  controller.abort();
  assert.equal(r.signal.aborted, true);
});

test('LazyRequest: body as a stream, and formData(), through the real Request', async () => {
  const body = Buffer.from('a=1&b=%C3%A9');
  const e = environ({ REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/x-www-form-urlencoded', CONTENT_LENGTH: String(body.length), 'wsgi.input': new Input(body, 0) });
  Object.defineProperty(e, 'tsgi.signal', { get: () => new AbortController().signal });
  const form = await new LazyRequest(e, 'http://h.test/').formData();
  assert.equal(form.get('b'), 'é');
  const e2 = environ({ REQUEST_METHOD: 'PUT', CONTENT_LENGTH: '3', 'wsgi.input': new Input(Buffer.from('xyz'), 0) });
  Object.defineProperty(e2, 'tsgi.signal', { get: () => new AbortController().signal });
  const chunks = [];
  for await (const c of new LazyRequest(e2, 'http://h.test/').body) chunks.push(Buffer.from(c));
  assert.equal(Buffer.concat(chunks).toString(), 'xyz');
  const e3 = environ();
  Object.defineProperty(e3, 'tsgi.signal', { get: () => new AbortController().signal });
  assert.equal(new LazyRequest(e3, 'http://h.test/').body, null, 'GET: a null body');
});

test('the light Response: instanceof, statics, checks and reading as the standard one', async () => {
  installLightResponse();
  try {
    const r = new Response('héllo', { status: 201, headers: { 'X-A': '1' } });
    assert.ok(r instanceof Response);
    assert.ok(r instanceof RealResponse);
    assert.ok(new RealResponse('x') instanceof Response, 'a standard Response is a Response too');
    assert.equal(r.status, 201);
    assert.equal(r.ok, true);
    assert.equal(r.headers.get('content-type'), 'text/plain;charset=UTF-8');
    r.headers.set('x-b', '2'); // as Hono's middleware does to c.res
    assert.deepEqual(lightState(r).status, 201);
    assert.equal(new Headers(lightState(r).headers).get('x-b'), '2', 'a change to its headers is what will be sent');
    assert.equal(await r.clone().text(), 'héllo');
    assert.equal(await r.text(), 'héllo');
    assert.equal(r.bodyUsed, true);
    assert.equal(lightState(r), undefined, 'made real: sent through the standard path');
    assert.throws(() => new Response('x', { status: 700 }), RangeError);
    assert.throws(() => new Response('x', { status: 204 }), TypeError);
    assert.ok(Response.json({ a: 1 }) instanceof Response);
    assert.equal(await Response.json({ a: 1 }).text(), '{"a":1}');
    assert.equal(Response.redirect('http://x.test/', 302).headers.get('location'), 'http://x.test/');
    const streamed = new Response(new ReadableStream({ start: (c) => (c.enqueue(new Uint8Array([65])), c.close()) }));
    assert.equal(lightState(streamed), undefined, 'a stream body: a standard Response at once');
    assert.equal(await streamed.text(), 'A');
    assert.equal(lightState(new Response(null, { status: 304 })).body, null);
    class Mine extends Response {}
    assert.ok(new Mine('x') instanceof Mine);
    assert.ok(!(new Response('x') instanceof Mine));
  } finally {
    Object.defineProperty(globalThis, 'Response', { value: RealResponse, writable: true, configurable: true });
  }
});
