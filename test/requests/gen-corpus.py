#!/usr/bin/env python3
"""Writes the request corpus: test/requests/{valid,invalid}/NAME.{http,json}.

Run from anywhere: python3 test/requests/gen-corpus.py
The expected values are written by hand below; the only things derived are the
header values (the raw value with leading/trailing SP/HTAB removed) and the byte
counts, which follow from how each request is put together. See README.md.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ left in test/
sys.path.insert(0, os.path.join(HERE, ".."))
from corpus_util import b, latin1, write_corpus  # noqa: E402

CRLF = b"\r\n"


def head(request_line, headers, prefix=b""):
    """headers: list of (name, raw value) or raw bytes lines."""
    out = b(prefix) + b(request_line) + CRLF
    for h in headers:
        if isinstance(h, tuple):
            out += b(h[0]) + b":" + b(h[1]) + CRLF
        else:
            out += b(h) + CRLF
    return out + CRLF


def chunked(chunks, trailers=(), last=b"0"):
    """chunks: list of (size line, data) or data bytes (size line computed)."""
    out = b""
    for c in chunks:
        if isinstance(c, tuple):
            line, data = b(c[0]), b(c[1])
        else:
            data = b(c)
            line = b"%x" % len(data)
        out += line + CRLF + data + CRLF
    out += b(last) + CRLF
    for t in trailers:
        out += b(t) + CRLF
    return out + CRLF


valid = {}
invalid = {}


def V(name, request_line, headers, *, method, target, minor=1, framing="none",
      content_length=0, keep_alive=True, expect_continue=False, host=None,
      body=b"", wire_body=b"", extra=b"", prefix=b"", max_head=None):
    h = head(request_line, headers, prefix)
    exp_headers = [[latin1(b(n)), latin1(b(v)).strip(" \t")]
                   for (n, v) in headers if isinstance((n, v), tuple)]
    wire_body = b(wire_body)
    body = b(body)
    if framing == "content-length":
        assert wire_body == b"" and len(body) == content_length
        wire_body = body
    data = h + wire_body + b(extra)
    exp = {
        "method": method, "target": latin1(b(target)), "minor_version": minor,
        "headers": exp_headers, "framing": framing,
        "content_length": content_length, "keep_alive": keep_alive,
        "expect_continue": expect_continue, "host": host,
        "body": latin1(body), "consumed": len(h) + len(wire_body),
    }
    if max_head is not None:
        exp["max_head"] = max_head
    assert name not in valid
    valid[name] = (data, exp)


def I(name, data, status, why, stage="head", max_head=None):
    exp = {"status": status, "why": why, "stage": stage}
    if max_head is not None:
        exp["max_head"] = max_head
    assert name not in invalid
    invalid[name] = (b(data), exp)


H = ("Host", "example.com")
GET = "GET / HTTP/1.1"

# ----------------------------------------------------------------------------- valid
V("get-simple", GET, [H], method="GET", target="/", host="example.com")
V("get-query", "GET /search?q=a%20b&x=1&y= HTTP/1.1", [H, ("Accept", " */*")],
  method="GET", target="/search?q=a%20b&x=1&y=", host="example.com")
V("get-query-empty", "GET /p? HTTP/1.1", [H], method="GET", target="/p?", host="example.com")
V("get-percent", "GET /a%2Fb/%7Euser HTTP/1.1", [H], method="GET",
  target="/a%2Fb/%7Euser", host="example.com")
V("absolute-form", "GET http://example.com:8080/p/a?x=1 HTTP/1.1",
  [("Host", " example.com:8080")], method="GET",
  target="http://example.com:8080/p/a?x=1", host="example.com:8080")
V("absolute-form-no-path", "GET http://example.com HTTP/1.1", [H], method="GET",
  target="http://example.com", host="example.com")
V("options-star", "OPTIONS * HTTP/1.1", [H], method="OPTIONS", target="*", host="example.com")
V("connect-authority", "CONNECT example.com:443 HTTP/1.1", [("Host", "example.com:443")],
  method="CONNECT", target="example.com:443", host="example.com:443")
V("http10", "GET / HTTP/1.0", [], method="GET", target="/", minor=0, keep_alive=False)
V("http10-keep-alive", "GET / HTTP/1.0", [("Connection", " keep-alive")], method="GET",
  target="/", minor=0, keep_alive=True)
V("http10-keep-alive-case", "GET / HTTP/1.0", [H, ("connection", " Keep-Alive")],
  method="GET", target="/", minor=0, keep_alive=True, host="example.com")
V("http10-keep-alive-close", "GET / HTTP/1.0", [("Connection", " keep-alive, close")],
  method="GET", target="/", minor=0, keep_alive=False)
V("http10-post-cl", "POST /form HTTP/1.0", [("Content-Length", " 3")], method="POST",
  target="/form", minor=0, framing="content-length", content_length=3, keep_alive=False,
  body="a=b")
V("http11-close", GET, [H, ("Connection", " close")], method="GET", target="/",
  keep_alive=False, host="example.com")
V("http11-close-upper", GET, [H, ("Connection", " CLOSE")], method="GET", target="/",
  keep_alive=False, host="example.com")
V("http11-keep-alive", GET, [H, ("Connection", " keep-alive")], method="GET", target="/",
  keep_alive=True, host="example.com")
V("connection-foo-close", GET, [H, ("Connection", " foo, close")], method="GET",
  target="/", keep_alive=False, host="example.com")
V("connection-empty-elements", GET, [H, ("Connection", " , ,close ,")], method="GET",
  target="/", keep_alive=False, host="example.com")
V("connection-two-headers", GET, [H, ("Connection", " foo"), ("Connection", "close")],
  method="GET", target="/", keep_alive=False, host="example.com")
V("connection-not-close", GET, [H, ("Connection", " closed, xclose")], method="GET",
  target="/", keep_alive=True, host="example.com")
V("connection-upgrade", GET, [H, ("Connection", " Upgrade"), ("Upgrade", " websocket")],
  method="GET", target="/", keep_alive=True, host="example.com")
V("expect-continue", "POST /upload HTTP/1.1",
  [H, ("Content-Length", " 5"), ("Expect", " 100-continue")], method="POST",
  target="/upload", framing="content-length", content_length=5, expect_continue=True,
  host="example.com", body="hello")
V("expect-continue-case", "PUT /x HTTP/1.1",
  [H, ("EXPECT", "100-Continue "), ("Content-Length", "0")], method="PUT", target="/x",
  framing="content-length", content_length=0, expect_continue=True, host="example.com")
V("expect-other", GET, [H, ("Expect", " 100-continued")], method="GET", target="/",
  host="example.com")
V("repeated-headers", GET,
  [H, ("Accept", " text/html"), ("Cookie", " a=1"), ("Accept", " text/plain"),
   ("Cookie", " b=2")], method="GET", target="/", host="example.com")
V("obs-text-value", GET, [H, ("X-Name", " caf\xe9 \xff\x80")], method="GET", target="/",
  host="example.com")
V("empty-value", GET, [H, ("X-Empty", ""), ("X-Blank", " \t  ")], method="GET",
  target="/", host="example.com")
V("ows-trim", GET, [H, ("X-A", " \t value with  inner \t spaces \t "), ("X-B", "v")],
  method="GET", target="/", host="example.com")
V("tab-in-value", GET, [H, ("X-T", "a\tb")], method="GET", target="/", host="example.com")
V("value-all-vchars", GET,
  [H, ("X-V", "".join(chr(c) for c in range(0x21, 0x7f)))], method="GET", target="/",
  host="example.com")
V("name-all-tchars", GET, [H, ("X-!#$%&'*+-.^_`|~0-9aZ", " v")], method="GET",
  target="/", host="example.com")
V("leading-crlf", GET, [H], method="GET", target="/", host="example.com",
  prefix=b"\r\n\r\n")
V("method-custom", "M-SEARCH * HTTP/1.1", [("HOST", "239.255.255.250:1900")],
  method="M-SEARCH", target="*", host="239.255.255.250:1900")
V("method-tchars", "X!#$%&'*+-.^_`|~Z /p HTTP/1.1", [H], method="X!#$%&'*+-.^_`|~Z",
  target="/p", host="example.com")
V("target-obs-text", "GET /caf\xe9?\xff HTTP/1.1", [H], method="GET",
  target="/caf\xe9?\xff", host="example.com")
V("target-long", "GET /" + "a" * 4000 + " HTTP/1.1", [H], method="GET",
  target="/" + "a" * 4000, host="example.com")
V("host-empty", GET, [("Host", "")], method="GET", target="/", host="")
V("host-case", GET, [("hOsT", "Example.COM")], method="GET", target="/", host="Example.COM")
V("headers-128", GET, [H] + [("X-H%d" % i, " v%d" % i) for i in range(127)],
  method="GET", target="/", host="example.com")
V("cl-zero", "POST / HTTP/1.1", [H, ("Content-Length", " 0")], method="POST", target="/",
  framing="content-length", content_length=0, host="example.com")
V("cl-leading-zeros", "POST / HTTP/1.1", [H, ("Content-Length", "005")], method="POST",
  target="/", framing="content-length", content_length=5, host="example.com", body="12345")
V("cl-list-same", "POST / HTTP/1.1", [H, ("Content-Length", " 5, 5")], method="POST",
  target="/", framing="content-length", content_length=5, host="example.com", body="hello")
V("cl-list-same-ows", "POST / HTTP/1.1", [H, ("Content-Length", "5 ,\t5,5")],
  method="POST", target="/", framing="content-length", content_length=5,
  host="example.com", body="hello")
V("cl-two-headers-same", "POST / HTTP/1.1",
  [H, ("Content-Length", " 5"), ("content-length", " 5")], method="POST", target="/",
  framing="content-length", content_length=5, host="example.com", body="hello")
V("cl-large-body", "POST /big HTTP/1.1", [H, ("Content-Length", " 20000")], method="POST",
  target="/big", framing="content-length", content_length=20000, host="example.com",
  body=bytes(range(256)) * 78 + bytes(range(32)))
V("cl-pipelined", "POST / HTTP/1.1", [H, ("Content-Length", " 4")], method="POST",
  target="/", framing="content-length", content_length=4, host="example.com", body="ab\r\n",
  extra=b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
V("get-pipelined", GET, [H], method="GET", target="/", host="example.com",
  extra=b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
V("max-head-exact", GET, [H], method="GET", target="/", host="example.com",
  max_head=len(head(GET, [H])))

TE = ("Transfer-Encoding", " chunked")
V("chunked-simple", "POST /c HTTP/1.1", [H, TE], method="POST", target="/c",
  framing="chunked", host="example.com", body="hello world",
  wire_body=chunked(["hello", " world"]))
V("chunked-empty", "POST /c HTTP/1.1", [H, TE], method="POST", target="/c",
  framing="chunked", host="example.com", body="", wire_body=chunked([]))
V("chunked-case", "POST /c HTTP/1.1", [H, ("transfer-encoding", "Chunked")],
  method="POST", target="/c", framing="chunked", host="example.com", body="abc",
  wire_body=chunked(["abc"]))
V("chunked-upper", "POST /c HTTP/1.1", [H, ("TRANSFER-ENCODING", " CHUNKED ")],
  method="POST", target="/c", framing="chunked", host="example.com", body="abc",
  wire_body=chunked(["abc"]))
V("chunked-ext", "POST /c HTTP/1.1", [H, TE], method="POST", target="/c",
  framing="chunked", host="example.com", body="helloworld",
  wire_body=chunked([("5;a=b", "hello"), ("5;name", "world")], last="0;last=yes"))
V("chunked-ext-quoted", "POST /c HTTP/1.1", [H, TE], method="POST", target="/c",
  framing="chunked", host="example.com", body="hello!",
  wire_body=chunked([('5;a="q s"', "hello"), ('1;b="x\\"y\\\\";c=""', "!")]))
V("chunked-ext-bws", "POST /c HTTP/1.1", [H, TE], method="POST", target="/c",
  framing="chunked", host="example.com", body="hello",
  wire_body=chunked([("5 ; a = b\t;\tc ;d=\"e\" ;f", "hello")]))
V("chunked-ext-obs-text", "POST /c HTTP/1.1", [H, TE], method="POST", target="/c",
  framing="chunked", host="example.com", body="ab",
  wire_body=chunked([('2;a="\xe9\t\x80"', "ab")]))
V("chunked-trailers", "POST /c HTTP/1.1", [H, TE, ("Trailer", " X-Checksum")],
  method="POST", target="/c", framing="chunked", host="example.com", body="data",
  wire_body=chunked(["data"], trailers=["X-Checksum: abc123", "X-Other:1 2 \t",
                                         "X-Empty:", "X-Obs: \xe9"]))
V("chunked-hex", "POST /c HTTP/1.1", [H, TE], method="POST", target="/c",
  framing="chunked", host="example.com", body="x" * 10 + "y" * 31,
  wire_body=chunked([("A", "x" * 10), ("1f", "y" * 31)]))
V("chunked-leading-zeros", "POST /c HTTP/1.1", [H, TE], method="POST", target="/c",
  framing="chunked", host="example.com", body="hello",
  wire_body=chunked([("0000000000000000000005", "hello")], last="000"))
V("chunked-data-crlf", "POST /c HTTP/1.1", [H, TE], method="POST", target="/c",
  framing="chunked", host="example.com", body="\r\n0\r\n\r\n",
  wire_body=chunked(["\r\n0\r\n\r\n"]))
V("chunked-pipelined", "POST /c HTTP/1.1", [H, TE], method="POST", target="/c",
  framing="chunked", host="example.com", body="abc", wire_body=chunked(["abc"]),
  extra=b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
V("chunked-te-ows", "POST /c HTTP/1.1", [H, ("Transfer-Encoding", "\t chunked \t")],
  method="POST", target="/c", framing="chunked", host="example.com", body="abc",
  wire_body=chunked(["abc"]))
V("chunked-expect", "POST /c HTTP/1.1", [H, TE, ("Expect", "100-continue"),
                                          ("Connection", "close")],
  method="POST", target="/c", framing="chunked", host="example.com", body="abc",
  expect_continue=True, keep_alive=False, wire_body=chunked(["abc"]))
big = bytes((i * 7) & 0xFF for i in range(20000))
sizes = [1, 2, 100, 4096, 15, 8192, 3000]
parts, pos = [], 0
for s in sizes:
    parts.append(big[pos:pos + s]); pos += s
parts.append(big[pos:])
V("chunked-large-body", "POST /big HTTP/1.1", [H, TE], method="POST", target="/big",
  framing="chunked", host="example.com", body=big, wire_body=chunked(parts))

# ----------------------------------------------------------------------------- invalid
def req(*headers, line=GET, prefix=b""):
    return head(line, list(headers), prefix)


POST = "POST / HTTP/1.1"
# request smuggling: framing headers
I("cl-and-te", req(H, ("Content-Length", " 5"), TE, line=POST) + chunked(["hello"]), 400,
  "Content-Length together with Transfer-Encoding")
I("te-and-cl", req(H, TE, ("Content-Length", " 5"), line=POST) + chunked(["hello"]), 400,
  "Transfer-Encoding together with Content-Length")
I("cl-two-headers-differ", req(H, ("Content-Length", " 5"), ("Content-Length", " 6"),
                               line=POST) + b"hello!", 400, "two differing Content-Lengths")
I("cl-list-differ", req(H, ("Content-Length", " 5, 6"), line=POST) + b"hello!", 400,
  "Content-Length list of differing values")
I("cl-list-differ-headers", req(H, ("Content-Length", "5"), ("Content-Length", "5, 6"),
                                line=POST), 400, "differing values across headers")
I("cl-plus", req(H, ("Content-Length", " +5"), line=POST) + b"hello", 400,
  "Content-Length with a sign")
I("cl-minus", req(H, ("Content-Length", " -5"), line=POST), 400, "negative Content-Length")
I("cl-inner-space", req(H, ("Content-Length", " 1 2"), line=POST), 400,
  "space inside Content-Length")
I("cl-hex", req(H, ("Content-Length", " 0x5"), line=POST), 400, "hex Content-Length")
I("cl-decimal-point", req(H, ("Content-Length", " 5.0"), line=POST), 400,
  "Content-Length with a fraction")
I("cl-letters", req(H, ("Content-Length", " 5a"), line=POST), 400,
  "Content-Length with a trailing letter")
I("cl-empty", req(H, ("Content-Length", ""), line=POST), 400, "empty Content-Length")
I("cl-trailing-comma", req(H, ("Content-Length", " 5,"), line=POST), 400,
  "Content-Length list with an empty element")
I("cl-overflow", req(H, ("Content-Length", " 99999999999999999999999"), line=POST), 400,
  "Content-Length overflowing 64 bits")
I("cl-2pow64", req(H, ("Content-Length", " 18446744073709551616"), line=POST), 400,
  "Content-Length of 2^64")
I("cl-2pow63", req(H, ("Content-Length", " 9223372036854775808"), line=POST), 400,
  "Content-Length of 2^63 (over the 2^63-1 limit)")
I("cl-vtab", req(H, ("Content-Length", " 5\x0b"), line=POST), 400,
  "vertical tab after Content-Length (a CTL in a value)")
I("te-chunked-gzip", req(H, ("Transfer-Encoding", " chunked, gzip"), line=POST), 400,
  "last transfer coding is not chunked")
I("te-gzip-only", req(H, ("Transfer-Encoding", " gzip"), line=POST), 400,
  "transfer coding without chunked")
I("te-gzip-chunked", req(H, ("Transfer-Encoding", " gzip, chunked"), line=POST)
  + chunked(["abc"]), 501, "unknown transfer coding before chunked")
I("te-identity-chunked", req(H, ("Transfer-Encoding", " identity, chunked"), line=POST),
  501, "identity is not a transfer coding we know")
I("te-gzip-param-chunked", req(H, ("Transfer-Encoding", ' x;a="b c", chunked'), line=POST),
  501, "unknown coding with a parameter")
I("te-chunked-twice", req(H, ("Transfer-Encoding", " chunked, chunked"), line=POST), 400,
  "chunked listed twice")
I("te-chunked-two-headers", req(H, TE, TE, line=POST), 400, "chunked in two headers")
I("te-two-headers-chunked-gzip", req(H, TE, ("Transfer-Encoding", " gzip"), line=POST),
  400, "combined list chunked, gzip")
I("te-two-headers-gzip-chunked", req(H, ("Transfer-Encoding", " gzip"), TE, line=POST),
  501, "combined list gzip, chunked")
I("te-http10", req(("Transfer-Encoding", " chunked"), line="POST / HTTP/1.0")
  + chunked(["abc"]), 400, "Transfer-Encoding in HTTP/1.0")
I("te-empty", req(H, ("Transfer-Encoding", ""), line=POST), 400, "empty Transfer-Encoding")
I("te-empty-element", req(H, ("Transfer-Encoding", " , chunked"), line=POST), 400,
  "empty list element in Transfer-Encoding (strict)")
I("te-chunked-param", req(H, ("Transfer-Encoding", " chunked;q=1"), line=POST), 400,
  "parameters on chunked")
I("te-bad-token", req(H, ("Transfer-Encoding", " chun ked"), line=POST), 400,
  "whitespace inside a coding")
I("te-bad-param", req(H, ("Transfer-Encoding", " gzip;a, chunked"), line=POST), 400,
  "parameter without a value")
I("te-param-quoted-escape", req(H, ("Transfer-Encoding", ' x;a="b\\"c,d", chunked'),
                                line=POST), 501, "quoted parameter with an escape and a comma")
I("te-param-unterminated", req(H, ("Transfer-Encoding", ' x;a="b, chunked'), line=POST),
  400, "unterminated quoted parameter")
I("te-param-escape-at-end", req(H, ("Transfer-Encoding", ' x;a="b\\'), line=POST), 400,
  "quoted parameter ending in a backslash")
I("te-xchunked", req(H, ("Transfer-Encoding", " xchunked"), line=POST), 400,
  "a coding that only looks like chunked")
I("te-and-cl-http10", req(("Content-Length", "3"), TE, line="POST / HTTP/1.0"), 400,
  "Transfer-Encoding with Content-Length in HTTP/1.0")
# field syntax
I("obs-fold", req(H, ("X-A", " b"), " c"), 400, "obsolete line folding (SP)")
I("obs-fold-tab", req(H, ("X-A", " b"), "\tc"), 400, "obsolete line folding (HTAB)")
I("obs-fold-first", req(" X-A: b", H), 400, "first field line starts with SP")
I("ws-before-colon", req(("Host ", " example.com")), 400, "SP before the colon")
I("tab-before-colon", req(H, ("X-A\t", " b")), 400, "HTAB before the colon")
I("ws-in-name", req(H, ("X A", " b")), 400, "SP inside a field name")
I("empty-name", req(H, ("", " b")), 400, "empty field name")
I("name-non-token", req(H, ("X@A", " b")), 400, "@ in a field name")
I("name-obs-text", req(H, ("X\xe9", " b")), 400, "obs-text in a field name")
I("no-colon", req(H, "X-A b"), 400, "field line without a colon")
I("nul-in-value", req(H, ("X-A", " a\x00b")), 400, "NUL in a value")
I("cr-in-value", req(H, ("X-A", " a\rb")), 400, "bare CR in a value")
I("ctl-in-value", req(H, ("X-A", " a\x01b")), 400, "CTL in a value")
I("del-in-value", req(H, ("X-A", " a\x7fb")), 400, "DEL in a value")
I("esc-in-value", req(H, ("X-A", " \x1b[31m")), 400, "ESC in a value")
I("bare-lf-request-line", b"GET / HTTP/1.1\nHost: example.com\r\n\r\n", 400,
  "request line ended by a bare LF")
I("bare-lf-header", b"GET / HTTP/1.1\r\nHost: example.com\nX: y\r\n\r\n", 400,
  "field line ended by a bare LF")
I("bare-lf-end", b"GET / HTTP/1.1\r\nHost: example.com\r\n\n", 400,
  "head ended by a bare LF")
I("bare-lf-all", b"GET / HTTP/1.1\nHost: example.com\n\n", 400, "LF-only head")
I("bare-lf-leading", b"\nGET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 400,
  "leading bare LF")
I("bare-lf-leading-after-crlf", b"\r\n\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400,
  "leading CRLF then a bare LF")
I("bare-cr-leading", b"\rGET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 400,
  "leading bare CR")
I("bare-cr-line-end", b"GET / HTTP/1.1\r\nHost: example.com\rX: y\r\n\r\n", 400,
  "field line ended by a bare CR")
I("bare-cr-request-line", b"GET / HTTP/1.1\rHost: example.com\r\n\r\n", 400,
  "request line ended by a bare CR")
I("bare-cr-end", b"GET / HTTP/1.1\r\nHost: example.com\r\n\rX", 400,
  "head ended by CR not followed by LF")
I("space-line", req(H) [:-2] + b"   \r\n\r\n", 400, "a whitespace-only line")
# Host
I("missing-host", req(("Accept", " */*")), 400, "HTTP/1.1 without Host")
I("two-hosts", req(H, ("Host", " example.org")), 400, "two Host headers")
I("two-hosts-same", req(H, ("host", " example.com")), 400, "two identical Host headers")
I("two-hosts-http10", req(H, H, line="GET / HTTP/1.0"), 400, "two Host headers in HTTP/1.0")
# request line
I("rl-two-spaces", req(H, line="GET  / HTTP/1.1"), 400, "two spaces after the method")
I("rl-two-spaces-after-target", req(H, line="GET /  HTTP/1.1"), 400,
  "two spaces after the target")
I("rl-tab", req(H, line="GET\t/ HTTP/1.1"), 400, "HTAB as a separator")
I("rl-tab-after-target", req(H, line="GET /\tHTTP/1.1"), 400, "HTAB after the target")
I("rl-leading-space", req(H, line=" GET / HTTP/1.1"), 400, "space before the method")
I("rl-trailing-space", req(H, line="GET / HTTP/1.1 "), 400, "space after the version")
I("rl-lowercase-version", req(H, line="GET / http/1.1"), 400, "lower-case http")
I("rl-version-1.10", req(H, line="GET / HTTP/1.10"), 400, "three-digit version")
I("rl-version-01.1", req(H, line="GET / HTTP/01.1"), 400, "two-digit major")
I("rl-version-no-minor", req(H, line="GET / HTTP/1"), 400, "version without minor")
I("rl-version-letters", req(H, line="GET / HTTP/x.y"), 400, "letters in the version")
I("rl-version-2", req(H, line="GET / HTTP/2"), 400, "HTTP/2 without minor")
I("rl-missing-version", req(H, line="GET /"), 400, "no version")
I("rl-missing-target", req(H, line="GET HTTP/1.1"), 400, "no target")
I("rl-only-method", b"GET\r\nHost: x\r\n\r\n", 400, "method only")
I("rl-empty-method", req(H, line=" / HTTP/1.1"), 400, "empty method")
I("rl-bad-method", req(H, line="GE(T / HTTP/1.1"), 400, "( in the method")
I("rl-method-obs-text", req(H, line="G\xc9T / HTTP/1.1"), 400, "obs-text in the method")
I("rl-ctl-target", req(H, line="GET /a\x01b HTTP/1.1"), 400, "CTL in the target")
I("rl-nul-target", req(H, line="GET /a\x00b HTTP/1.1"), 400, "NUL in the target")
I("rl-del-target", req(H, line="GET /a\x7fb HTTP/1.1"), 400, "DEL in the target")
I("rl-cr-target", req(H, line="GET /a\rb HTTP/1.1"), 400, "CR in the target")
I("rl-lf-target", req(H, line="GET /a\nb HTTP/1.1"), 400, "LF in the target")
I("rl-version-2.0", req(H, line="GET / HTTP/2.0"), 505, "HTTP/2.0")
I("rl-version-0.9", req(H, line="GET / HTTP/0.9"), 505, "HTTP/0.9")
I("rl-version-1.2", req(H, line="GET / HTTP/1.2"), 505, "HTTP/1.2")
I("rl-version-3.1", req(H, line="GET / HTTP/3.1"), 505, "HTTP/3.1")
I("rl-version-9.9-bad-header", req(("X A", "b"), line="GET / HTTP/9.9"), 505,
  "the version is judged before the fields")
# limits
I("head-over-max", req(H, ("X-Big", "a" * 9000)), 431,
  "head longer than the default max_head (8192)")
I("head-over-max-small", req(H, ("X-A", "b" * 40)), 431, "head over max_head 64",
  max_head=64)
I("head-over-max-by-one", req(H), 431, "head one byte over max_head",
  max_head=len(req(H)) - 1)
I("leading-crlf-over-max", b"\r\n" * 100 + req(H), 431, "leading CRLFs count in max_head",
  max_head=150)
I("too-many-headers", req(H, *[("X-H%d" % i, "v") for i in range(128)]), 431,
  "129 fields")

# chunked bodies (the head is valid; the decoder must fail)
CH = req(H, TE, line="POST /c HTTP/1.1")


def IB(name, body, why):
    I(name, CH + b(body), 400, why, stage="body")


IB("chunk-size-nonhex", "g\r\nhello\r\n0\r\n\r\n", "non-hex chunk size")
IB("chunk-size-empty", "\r\nhello\r\n0\r\n\r\n", "empty chunk size")
IB("chunk-size-0x", "0x5\r\nhello\r\n0\r\n\r\n", "0x prefix")
IB("chunk-size-negative", "-5\r\nhello\r\n0\r\n\r\n", "negative size")
IB("chunk-size-plus", "+5\r\nhello\r\n0\r\n\r\n", "signed size")
IB("chunk-size-leading-space", " 5\r\nhello\r\n0\r\n\r\n", "space before the size")
IB("chunk-size-trailing-space", "5 \r\nhello\r\n0\r\n\r\n",
   "space after the size without an extension")
IB("chunk-size-2pow63", "8000000000000000\r\nhello\r\n0\r\n\r\n", "size 2^63")
IB("chunk-size-2pow64", "10000000000000000\r\nhello\r\n0\r\n\r\n", "size 2^64 (overflow)")
IB("chunk-size-huge", "f" * 40 + "\r\nhello\r\n0\r\n\r\n", "size far over 2^64")
IB("chunk-size-bare-lf", "5\nhello\r\n0\r\n\r\n", "chunk-size line ended by a bare LF")
IB("chunk-size-bare-cr", "5\rhello\r\n0\r\n\r\n", "chunk-size line ended by a bare CR")
IB("chunk-size-line-too-long", "0" * 5000 + "5\r\nhello\r\n0\r\n\r\n",
   "chunk-size line over kMaxLine")
IB("chunk-ext-no-name", "5;\r\nhello\r\n0\r\n\r\n", "; without a name")
IB("chunk-ext-no-value", "5;a=\r\nhello\r\n0\r\n\r\n", "= without a value")
IB("chunk-ext-space-in-name", "5;a b\r\nhello\r\n0\r\n\r\n", "space inside a name")
IB("chunk-ext-name-bad-char", "5;a@b\r\nhello\r\n0\r\n\r\n", "@ in a name")
IB("chunk-ext-bad-char", "5;a=b@c\r\nhello\r\n0\r\n\r\n", "@ in a token value")
IB("chunk-ext-ctl", "5;a=\x01\r\nhello\r\n0\r\n\r\n", "CTL in an extension")
IB("chunk-ext-unterminated-quote", '5;a="q\r\nhello\r\n0\r\n\r\n', "unterminated quote")
IB("chunk-ext-quote-ctl", '5;a="q\x00"\r\nhello\r\n0\r\n\r\n', "NUL in a quoted value")
IB("chunk-ext-after-quote", '5;a="q"x\r\nhello\r\n0\r\n\r\n', "junk after a quoted value")
IB("chunk-ext-trailing-ws", "5;a=b \r\nhello\r\n0\r\n\r\n", "BWS before CRLF")
IB("chunk-ext-no-semicolon", "5 a=b\r\nhello\r\n0\r\n\r\n", "extension without ;")
IB("chunk-ext-too-long", "5;a=" + "b" * 5000 + "\r\nhello\r\n0\r\n\r\n",
   "extension line over kMaxLine")
IB("chunk-ext-bare-lf", "5;a=b\nhello\r\n0\r\n\r\n", "extension line ended by a bare LF")
IB("chunk-data-missing-crlf", "5\r\nhelloX0\r\n\r\n", "no CRLF after chunk data")
IB("chunk-data-too-long", "5\r\nhello world\r\n0\r\n\r\n", "more data than the size")
IB("chunk-data-bare-lf", "5\r\nhello\n0\r\n\r\n", "bare LF after chunk data")
IB("chunk-data-bare-cr", "5\r\nhello\r0\r\n\r\n", "bare CR after chunk data")
IB("last-chunk-bare-lf", "0\n\r\n", "last-chunk line ended by a bare LF")
IB("final-bare-lf", "0\r\n\n", "final line a bare LF")
IB("final-bare-cr", "0\r\n\rX", "final CR not followed by LF")
IB("trailer-obs-fold", "0\r\nX-A: b\r\n c\r\n\r\n", "folded trailer")
IB("trailer-ws-before-colon", "0\r\nX-A : b\r\n\r\n", "space before a trailer colon")
IB("trailer-no-colon", "0\r\nX-A\r\n\r\n", "trailer line without a colon")
IB("trailer-empty-name", "0\r\n: b\r\n\r\n", "trailer with an empty name")
IB("trailer-nul", "0\r\nX-A: a\x00b\r\n\r\n", "NUL in a trailer value")
IB("trailer-bare-lf", "0\r\nX-A: b\n\r\n", "trailer ended by a bare LF")
IB("trailer-bare-cr", "0\r\nX-A: b\rc\r\n\r\n", "bare CR in a trailer")
IB("trailer-too-long", "0\r\nX-A: " + "b" * 5000 + "\r\n\r\n", "trailer line over kMaxLine")


write_corpus(HERE, ".http", valid, invalid)
