// Requests the server refuses (with REFUSAL_LIMITS), shared by the conformance suite
// and the log-line checks: [test name, pieces written one by one, status, options].

export const REFUSAL_LIMITS = { bufferSize: 1024, limitPost: 100, httpTimeout: 1 };

export const REFUSALS = [
  // [test name, bytes (a list of pieces, written one by one), status, the reason its log
  // line names (docs/errors.md), options]
  ['refusal: a malformed request line -> 400', ['this is not http\r\n\r\n'], 400, 'malformed request line'],
  ['refusal: a request line with two spaces -> 400', ['GET  / HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'malformed request line'],
  ['refusal: a head over buffer-size -> 431', [`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`], 431, 'request head over buffer-size'],
  ['refusal: Content-Length over limit-post -> 413 before the body is sent', ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n'], 413, 'body over limit-post'],
  [
    'refusal: Content-Length over limit-post with Expect: 100-continue -> 413, no 100 Continue',
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n'],
    413,
    'body over limit-post',
  ],
  [
    'refusal: a chunked body over limit-post -> 413',
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', `40\r\n${'x'.repeat(64)}\r\n`, `40\r\n${'y'.repeat(64)}\r\n0\r\n\r\n`],
    413,
    'body over limit-post',
  ],
  ['refusal: Transfer-Encoding: gzip, chunked -> 501', ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'], 501, 'unsupported transfer coding'],
  ['refusal: Transfer-Encoding: gzip (not ending in chunked) -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc'], 400, 'last transfer coding is not chunked'],
  ['refusal: HTTP/1.0 with Transfer-Encoding: chunked -> 400', ['POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'], 400, 'Transfer-Encoding in HTTP/1.0'],
  ['refusal: an HTTP/2.0 request line -> 505', ['GET / HTTP/2.0\r\nHost: a\r\n\r\n'], 505, 'unsupported HTTP version'],
  ['refusal: Content-Length with Transfer-Encoding -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'], 400, 'Content-Length with Transfer-Encoding'],
  ['refusal: two different Content-Lengths -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'], 400, 'differing Content-Lengths'],
  ['refusal: obs-fold -> 400', ['GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n'], 400, 'obsolete line folding'],
  ['refusal: a bare LF -> 400', ['GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n'], 400, 'bare LF'],
  ['refusal: whitespace before a colon -> 400', ['GET / HTTP/1.1\r\nHost : a\r\n\r\n'], 400, 'whitespace before colon'],
  ['refusal: HTTP/1.1 without Host -> 400', ['GET / HTTP/1.1\r\nX-A: b\r\n\r\n'], 400, 'missing Host header'],
  ['refusal: two Host headers -> 400', ['GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'], 400, 'more than one Host header'],
  ['refusal: a NUL in a field value -> 400', ['GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n'], 400, 'invalid character in a field value'],
  ['refusal: a malformed Content-Length -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5a\r\n\r\nhello'], 400, 'malformed Content-Length'],
  ['refusal: a fragment in the request target -> 400', ['GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'fragment in the request target'],
  ['refusal: a fragment after the query -> 400', ['GET /?page=1#x HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'fragment in the request target'],
  ['refusal: * with a method other than OPTIONS -> 400', ['GET * HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'asterisk-form target with a method other than OPTIONS'],
  ['refusal: an absolute-form target with an invalid authority -> 400', ['PUT s://]ufd/: HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n'], 400, 'invalid authority in the request target'],
  ['refusal: an absolute-form target with userinfo -> 400', ['GET http://user:pw@a.example/ HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'userinfo in the request target'],
  ['refusal: an absolute-form target with a scheme other than http(s) -> 400', ['GET ftp://a.example/f HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'absolute-form target with a scheme other than http or https'],
  ['refusal: an authority-form target with GET -> 400', ['GET a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'authority-form target with a method other than CONNECT'],
  ['refusal: CONNECT -> 501', ['CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n'], 501, 'CONNECT is not supported'],
  ['refusal: CONNECT with a path -> 400', ['CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'CONNECT without an authority-form target'],
  ['refusal: a malformed chunk size -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', 'zz\r\nhello\r\n0\r\n\r\n'], 400, 'malformed chunk size'],
  ['refusal: chunk data without its CRLF -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', '5\r\nhelloX0\r\n\r\n'], 400, 'no CRLF after chunk data'],
  ['refusal: a malformed trailer field -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', '0\r\nX-A : b\r\n\r\n'], 400, 'malformed trailer field'],
  ['refusal: a head not complete within http-timeout -> 408', ['GET / HTTP/1.1\r\nHost: a\r\nX-Half: '], 408, 'request not complete within http-timeout', { slow: true }],
  [
    'refusal: a body that makes no progress for http-timeout -> 408',
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\n', 'only some'],
    408,
    'request not complete within http-timeout',
    { slow: true },
  ],
];
