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
      authority="", body=b"", wire_body=b"", extra=b"", prefix=b"", max_head=None,
      upgrade=False):
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
        "expect_continue": expect_continue, "upgrade": upgrade, "host": host,
        "authority": authority, "body": latin1(body), "consumed": len(h) + len(wire_body),
    }
    if max_head is not None:
        exp["max_head"] = max_head
    assert name not in valid
    valid[name] = (data, exp)


def I(name, reason, data, status, why, stage="head", max_head=None):
    exp = {"status": status, "reason": reason, "why": why, "stage": stage}
    if max_head is not None:
        exp["max_head"] = max_head
    assert name not in invalid
    invalid[name] = (b(data), exp)


# The reasons of invalid requests: native/protocol/http_parser.cc's table (DescribeHttpError).
LINE = "malformed request line"
VERSION = "unsupported HTTP version"
TARGET = "malformed request target"
FRAGMENT = "fragment in the request target"
ASTERISK = "asterisk-form target with a method other than OPTIONS"
AUTHORITY = "invalid authority in the request target"
USERINFO = "userinfo in the request target"
SCHEME = "absolute-form target with a scheme other than http or https"
AUTHORITY_FORM = "authority-form target with a method other than CONNECT"
CONNECT_TARGET = "CONNECT without an authority-form target"
CONNECT = "CONNECT is not supported"
BARE_CR = "CR not followed by LF"
BARE_LF = "bare LF"
OBS_FOLD = "obsolete line folding"
WS_COLON = "whitespace before colon"
FIELD_NAME = "malformed field name"
FIELD_VALUE = "invalid character in a field value"
MISSING_HOST = "missing Host header"
DUP_HOST = "more than one Host header"
CL = "malformed Content-Length"
CLS = "differing Content-Lengths"
CL_TE = "Content-Length with Transfer-Encoding"
TE_HTTP10 = "Transfer-Encoding in HTTP/1.0"
TE_BAD = "malformed Transfer-Encoding"
TE_NOT_CHUNKED = "last transfer coding is not chunked"
TE_TWICE = "chunked listed more than once"
TE_UNSUPPORTED = "unsupported transfer coding"
HEAD_TOO_LARGE = "request head over buffer-size"
TOO_MANY_FIELDS = "more than 128 header fields"
CHUNK_SIZE = "malformed chunk size"
CHUNK_SIZE_LARGE = "chunk size over 2^63-1"
CHUNK_EXT = "malformed chunk extension"
CHUNK_LINE = "chunk-size or trailer line over 4096 bytes"
CHUNK_DATA_END = "no CRLF after chunk data"
TRAILER = "malformed trailer field"

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
  target="http://example.com:8080/p/a?x=1", host="example.com:8080",
  authority="example.com:8080")
V("absolute-form-no-path", "GET http://example.com HTTP/1.1", [H], method="GET",
  target="http://example.com", host="example.com", authority="example.com")
# RFC 9112 §3.2.2: the target's authority stands for Host, whatever Host says.
V("absolute-form-host-differs", "GET http://other.example/path HTTP/1.1",
  [("Host", "good.example")], method="GET", target="http://other.example/path",
  host="good.example", authority="other.example")
V("absolute-form-https-upper", "POST HTTPS://A.example:443/p?q=1 HTTP/1.1", [H],
  method="POST", target="HTTPS://A.example:443/p?q=1", host="example.com",
  authority="A.example:443")
V("absolute-form-ipv6", "GET http://[::1]:8080/x HTTP/1.1", [H], method="GET",
  target="http://[::1]:8080/x", host="example.com", authority="[::1]:8080")
V("absolute-form-ipvfuture", "GET http://[v1.fe80::a+en1]/ HTTP/1.1", [H], method="GET",
  target="http://[v1.fe80::a+en1]/", host="example.com", authority="[v1.fe80::a+en1]")
V("absolute-form-reg-name", "GET http://a-b.c_d~e!$&'()*+,;=%41:/ HTTP/1.1", [H],
  method="GET", target="http://a-b.c_d~e!$&'()*+,;=%41:/", host="example.com",
  authority="a-b.c_d~e!$&'()*+,;=%41:")
V("absolute-form-http10-no-host", "GET http://a.example/p HTTP/1.0", [], method="GET",
  target="http://a.example/p", minor=0, keep_alive=False, authority="a.example")
V("options-star", "OPTIONS * HTTP/1.1", [H], method="OPTIONS", target="*", host="example.com")
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
  method="GET", target="/", keep_alive=True, host="example.com", upgrade=True)
V("connection-upgrade-in-list", GET,
  [H, ("Connection", " keep-alive, UPGRADE"), ("upgrade", " h2c, websocket")],
  method="GET", target="/", keep_alive=True, host="example.com", upgrade=True)
V("upgrade-without-connection", GET, [H, ("Upgrade", " websocket")], method="GET",
  target="/", keep_alive=True, host="example.com")
V("connection-upgrade-without-upgrade", GET, [H, ("Connection", " upgrade")], method="GET",
  target="/", keep_alive=True, host="example.com")
V("connection-upgrade-empty-upgrade", GET, [H, ("Connection", " upgrade"), ("Upgrade", " ")],
  method="GET", target="/", keep_alive=True, host="example.com")
V("connection-upgraded-not-upgrade", GET,
  [H, ("Connection", " upgraded"), ("Upgrade", " websocket")], method="GET", target="/",
  keep_alive=True, host="example.com")
V("http10-upgrade", "GET / HTTP/1.0", [("Connection", " upgrade"), ("Upgrade", " websocket")],
  method="GET", target="/", minor=0, keep_alive=False)
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
V("method-custom", "M-SEARCH /p HTTP/1.1", [("HOST", "239.255.255.250:1900")],
  method="M-SEARCH", target="/p", host="239.255.255.250:1900")
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
I("cl-and-te", CL_TE, req(H, ("Content-Length", " 5"), TE, line=POST) + chunked(["hello"]), 400,
  "Content-Length together with Transfer-Encoding")
I("te-and-cl", CL_TE, req(H, TE, ("Content-Length", " 5"), line=POST) + chunked(["hello"]), 400,
  "Transfer-Encoding together with Content-Length")
I("cl-two-headers-differ", CLS, req(H, ("Content-Length", " 5"), ("Content-Length", " 6"),
                               line=POST) + b"hello!", 400, "two differing Content-Lengths")
I("cl-list-differ", CLS, req(H, ("Content-Length", " 5, 6"), line=POST) + b"hello!", 400,
  "Content-Length list of differing values")
I("cl-list-differ-headers", CLS, req(H, ("Content-Length", "5"), ("Content-Length", "5, 6"),
                                line=POST), 400, "differing values across headers")
I("cl-plus", CL, req(H, ("Content-Length", " +5"), line=POST) + b"hello", 400,
  "Content-Length with a sign")
I("cl-minus", CL, req(H, ("Content-Length", " -5"), line=POST), 400, "negative Content-Length")
I("cl-inner-space", CL, req(H, ("Content-Length", " 1 2"), line=POST), 400,
  "space inside Content-Length")
I("cl-hex", CL, req(H, ("Content-Length", " 0x5"), line=POST), 400, "hex Content-Length")
I("cl-decimal-point", CL, req(H, ("Content-Length", " 5.0"), line=POST), 400,
  "Content-Length with a fraction")
I("cl-letters", CL, req(H, ("Content-Length", " 5a"), line=POST), 400,
  "Content-Length with a trailing letter")
I("cl-empty", CL, req(H, ("Content-Length", ""), line=POST), 400, "empty Content-Length")
I("cl-trailing-comma", CL, req(H, ("Content-Length", " 5,"), line=POST), 400,
  "Content-Length list with an empty element")
I("cl-overflow", CL, req(H, ("Content-Length", " 99999999999999999999999"), line=POST), 400,
  "Content-Length overflowing 64 bits")
I("cl-2pow64", CL, req(H, ("Content-Length", " 18446744073709551616"), line=POST), 400,
  "Content-Length of 2^64")
I("cl-2pow63", CL, req(H, ("Content-Length", " 9223372036854775808"), line=POST), 400,
  "Content-Length of 2^63 (over the 2^63-1 limit)")
I("cl-vtab", FIELD_VALUE, req(H, ("Content-Length", " 5\x0b"), line=POST), 400,
  "vertical tab after Content-Length (a CTL in a value)")
I("te-chunked-gzip", TE_NOT_CHUNKED, req(H, ("Transfer-Encoding", " chunked, gzip"), line=POST), 400,
  "last transfer coding is not chunked")
I("te-gzip-only", TE_NOT_CHUNKED, req(H, ("Transfer-Encoding", " gzip"), line=POST), 400,
  "transfer coding without chunked")
I("te-gzip-chunked", TE_UNSUPPORTED, req(H, ("Transfer-Encoding", " gzip, chunked"), line=POST)
  + chunked(["abc"]), 501, "unknown transfer coding before chunked")
I("te-identity-chunked", TE_UNSUPPORTED, req(H, ("Transfer-Encoding", " identity, chunked"), line=POST),
  501, "identity is not a transfer coding we know")
I("te-gzip-param-chunked", TE_UNSUPPORTED, req(H, ("Transfer-Encoding", ' x;a="b c", chunked'), line=POST),
  501, "unknown coding with a parameter")
I("te-chunked-twice", TE_TWICE, req(H, ("Transfer-Encoding", " chunked, chunked"), line=POST), 400,
  "chunked listed twice")
I("te-chunked-two-headers", TE_TWICE, req(H, TE, TE, line=POST), 400, "chunked in two headers")
I("te-two-headers-chunked-gzip", TE_NOT_CHUNKED, req(H, TE, ("Transfer-Encoding", " gzip"), line=POST),
  400, "combined list chunked, gzip")
I("te-two-headers-gzip-chunked", TE_UNSUPPORTED, req(H, ("Transfer-Encoding", " gzip"), TE, line=POST),
  501, "combined list gzip, chunked")
I("te-http10", TE_HTTP10, req(("Transfer-Encoding", " chunked"), line="POST / HTTP/1.0")
  + chunked(["abc"]), 400, "Transfer-Encoding in HTTP/1.0")
I("te-empty", TE_BAD, req(H, ("Transfer-Encoding", ""), line=POST), 400, "empty Transfer-Encoding")
I("te-empty-element", TE_BAD, req(H, ("Transfer-Encoding", " , chunked"), line=POST), 400,
  "empty list element in Transfer-Encoding (strict)")
I("te-chunked-param", TE_BAD, req(H, ("Transfer-Encoding", " chunked;q=1"), line=POST), 400,
  "parameters on chunked")
I("te-bad-token", TE_BAD, req(H, ("Transfer-Encoding", " chun ked"), line=POST), 400,
  "whitespace inside a coding")
I("te-bad-param", TE_BAD, req(H, ("Transfer-Encoding", " gzip;a, chunked"), line=POST), 400,
  "parameter without a value")
I("te-param-quoted-escape", TE_UNSUPPORTED, req(H, ("Transfer-Encoding", ' x;a="b\\"c,d", chunked'),
                                line=POST), 501, "quoted parameter with an escape and a comma")
I("te-param-unterminated", TE_BAD, req(H, ("Transfer-Encoding", ' x;a="b, chunked'), line=POST),
  400, "unterminated quoted parameter")
I("te-param-escape-at-end", TE_BAD, req(H, ("Transfer-Encoding", ' x;a="b\\'), line=POST), 400,
  "quoted parameter ending in a backslash")
I("te-xchunked", TE_NOT_CHUNKED, req(H, ("Transfer-Encoding", " xchunked"), line=POST), 400,
  "a coding that only looks like chunked")
I("te-and-cl-http10", TE_HTTP10, req(("Content-Length", "3"), TE, line="POST / HTTP/1.0"), 400,
  "Transfer-Encoding with Content-Length in HTTP/1.0")
# field syntax
I("obs-fold", OBS_FOLD, req(H, ("X-A", " b"), " c"), 400, "obsolete line folding (SP)")
I("obs-fold-tab", OBS_FOLD, req(H, ("X-A", " b"), "\tc"), 400, "obsolete line folding (HTAB)")
I("obs-fold-first", OBS_FOLD, req(" X-A: b", H), 400, "first field line starts with SP")
I("ws-before-colon", WS_COLON, req(("Host ", " example.com")), 400, "SP before the colon")
I("tab-before-colon", WS_COLON, req(H, ("X-A\t", " b")), 400, "HTAB before the colon")
I("ws-in-name", WS_COLON, req(H, ("X A", " b")), 400, "SP inside a field name")
I("empty-name", FIELD_NAME, req(H, ("", " b")), 400, "empty field name")
I("name-non-token", FIELD_NAME, req(H, ("X@A", " b")), 400, "@ in a field name")
I("name-obs-text", FIELD_NAME, req(H, ("X\xe9", " b")), 400, "obs-text in a field name")
I("no-colon", WS_COLON, req(H, "X-A b"), 400, "field line without a colon")
I("nul-in-value", FIELD_VALUE, req(H, ("X-A", " a\x00b")), 400, "NUL in a value")
I("cr-in-value", BARE_CR, req(H, ("X-A", " a\rb")), 400, "bare CR in a value")
I("ctl-in-value", FIELD_VALUE, req(H, ("X-A", " a\x01b")), 400, "CTL in a value")
I("del-in-value", FIELD_VALUE, req(H, ("X-A", " a\x7fb")), 400, "DEL in a value")
I("esc-in-value", FIELD_VALUE, req(H, ("X-A", " \x1b[31m")), 400, "ESC in a value")
I("bare-lf-request-line", BARE_LF, b"GET / HTTP/1.1\nHost: example.com\r\n\r\n", 400,
  "request line ended by a bare LF")
I("bare-lf-header", BARE_LF, b"GET / HTTP/1.1\r\nHost: example.com\nX: y\r\n\r\n", 400,
  "field line ended by a bare LF")
I("bare-lf-end", BARE_LF, b"GET / HTTP/1.1\r\nHost: example.com\r\n\n", 400,
  "head ended by a bare LF")
I("bare-lf-all", BARE_LF, b"GET / HTTP/1.1\nHost: example.com\n\n", 400, "LF-only head")
I("bare-lf-leading", BARE_LF, b"\nGET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 400,
  "leading bare LF")
I("bare-lf-leading-after-crlf", BARE_LF, b"\r\n\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400,
  "leading CRLF then a bare LF")
I("bare-cr-leading", BARE_CR, b"\rGET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 400,
  "leading bare CR")
I("bare-cr-line-end", BARE_CR, b"GET / HTTP/1.1\r\nHost: example.com\rX: y\r\n\r\n", 400,
  "field line ended by a bare CR")
I("bare-cr-request-line", BARE_CR, b"GET / HTTP/1.1\rHost: example.com\r\n\r\n", 400,
  "request line ended by a bare CR")
I("bare-cr-end", BARE_CR, b"GET / HTTP/1.1\r\nHost: example.com\r\n\rX", 400,
  "head ended by CR not followed by LF")
I("space-line", OBS_FOLD, req(H) [:-2] + b"   \r\n\r\n", 400, "a whitespace-only line")
# Host
I("missing-host", MISSING_HOST, req(("Accept", " */*")), 400, "HTTP/1.1 without Host")
I("two-hosts", DUP_HOST, req(H, ("Host", " example.org")), 400, "two Host headers")
I("two-hosts-same", DUP_HOST, req(H, ("host", " example.com")), 400, "two identical Host headers")
I("two-hosts-http10", DUP_HOST, req(H, H, line="GET / HTTP/1.0"), 400, "two Host headers in HTTP/1.0")
# request line
I("rl-two-spaces", LINE, req(H, line="GET  / HTTP/1.1"), 400, "two spaces after the method")
I("rl-two-spaces-after-target", LINE, req(H, line="GET /  HTTP/1.1"), 400,
  "two spaces after the target")
I("rl-tab", LINE, req(H, line="GET\t/ HTTP/1.1"), 400, "HTAB as a separator")
I("rl-tab-after-target", TARGET, req(H, line="GET /\tHTTP/1.1"), 400, "HTAB after the target")
I("rl-leading-space", LINE, req(H, line=" GET / HTTP/1.1"), 400, "space before the method")
I("rl-trailing-space", LINE, req(H, line="GET / HTTP/1.1 "), 400, "space after the version")
I("rl-lowercase-version", LINE, req(H, line="GET / http/1.1"), 400, "lower-case http")
I("rl-version-1.10", LINE, req(H, line="GET / HTTP/1.10"), 400, "three-digit version")
I("rl-version-01.1", LINE, req(H, line="GET / HTTP/01.1"), 400, "two-digit major")
I("rl-version-no-minor", LINE, req(H, line="GET / HTTP/1"), 400, "version without minor")
I("rl-version-letters", LINE, req(H, line="GET / HTTP/x.y"), 400, "letters in the version")
I("rl-version-2", LINE, req(H, line="GET / HTTP/2"), 400, "HTTP/2 without minor")
I("rl-missing-version", LINE, req(H, line="GET /"), 400, "no version")
I("rl-missing-target", LINE, req(H, line="GET HTTP/1.1"), 400, "no target")
I("rl-only-method", LINE, b"GET\r\nHost: x\r\n\r\n", 400, "method only")
I("rl-empty-method", LINE, req(H, line=" / HTTP/1.1"), 400, "empty method")
I("rl-bad-method", LINE, req(H, line="GE(T / HTTP/1.1"), 400, "( in the method")
I("rl-method-obs-text", LINE, req(H, line="G\xc9T / HTTP/1.1"), 400, "obs-text in the method")
I("rl-ctl-target", TARGET, req(H, line="GET /a\x01b HTTP/1.1"), 400, "CTL in the target")
I("rl-nul-target", TARGET, req(H, line="GET /a\x00b HTTP/1.1"), 400, "NUL in the target")
I("rl-del-target", TARGET, req(H, line="GET /a\x7fb HTTP/1.1"), 400, "DEL in the target")
I("rl-cr-target", LINE, req(H, line="GET /a\rb HTTP/1.1"), 400, "CR in the target")
I("rl-lf-target", BARE_LF, req(H, line="GET /a\nb HTTP/1.1"), 400, "LF in the target")
I("rl-version-2.0", VERSION, req(H, line="GET / HTTP/2.0"), 505, "HTTP/2.0")
I("rl-version-0.9", VERSION, req(H, line="GET / HTTP/0.9"), 505, "HTTP/0.9")
I("rl-version-1.2", VERSION, req(H, line="GET / HTTP/1.2"), 505, "HTTP/1.2")
I("rl-version-3.1", VERSION, req(H, line="GET / HTTP/3.1"), 505, "HTTP/3.1")
I("rl-version-9.9-bad-header", VERSION, req(("X A", "b"), line="GET / HTTP/9.9"), 505,
  "the version is judged before the fields")
# request-target (RFC 9112 §3.2), judged for the method once the line is complete
I("target-fragment", FRAGMENT, req(H, line="GET /a#frag HTTP/1.1"), 400, "a fragment")
I("target-fragment-query", FRAGMENT, req(H, line="GET /?page=1#x HTTP/1.1"), 400,
  "a fragment after the query")
I("target-fragment-empty", FRAGMENT, req(H, line="GET /# HTTP/1.1"), 400, "an empty fragment")
I("target-fragment-absolute", FRAGMENT, req(H, line="GET http://a.example/p#x HTTP/1.1"),
  400, "a fragment in absolute-form")
I("target-fragment-after-authority", FRAGMENT, req(H, line="GET http://a.example#x HTTP/1.1"),
  400, "a fragment right after the authority")
I("target-asterisk-get", ASTERISK, req(H, line="GET * HTTP/1.1"), 400, "* with GET")
I("target-asterisk-m-search", ASTERISK, req(("HOST", "239.255.255.250:1900"),
                                            line="M-SEARCH * HTTP/1.1"), 400,
  "* with a method other than OPTIONS (SSDP is not HTTP over TCP)")
I("target-asterisk-lower-options", ASTERISK, req(H, line="options * HTTP/1.1"), 400,
  "methods are case-sensitive: options is not OPTIONS")
I("target-asterisk-more", TARGET, req(H, line="OPTIONS *x HTTP/1.1"), 400, "* and more")
I("target-bad-authority", AUTHORITY, req(("Host", "a"), line="PUT s://]ufd/: HTTP/1.1"), 400,
  "an authority that is no host")
I("target-empty-host", AUTHORITY, req(H, line="GET http:///p HTTP/1.1"), 400,
  "an empty host (RFC 9110 §4.2.1)")
I("target-empty-host-port", AUTHORITY, req(H, line="GET http://:80/p HTTP/1.1"), 400,
  "a port without a host")
I("target-bad-port", AUTHORITY, req(H, line="GET http://h:8x/ HTTP/1.1"), 400,
  "a port with a letter")
I("target-two-colons", AUTHORITY, req(H, line="GET http://h:1:2/ HTTP/1.1"), 400,
  "host:port:port")
I("target-bad-pct-host", AUTHORITY, req(H, line="GET http://h%zz/ HTTP/1.1"), 400,
  "a bad percent escape in the host")
I("target-bad-host-char", AUTHORITY, req(H, line="GET http://a<b/ HTTP/1.1"), 400,
  "< in the host")
I("target-ipv6-unclosed", AUTHORITY, req(H, line="GET http://[::1/ HTTP/1.1"), 400,
  "an IP-literal without ]")
I("target-ipv6-bad", AUTHORITY, req(H, line="GET http://[::g]/ HTTP/1.1"), 400,
  "a non-hex digit in an IPv6 literal")
I("target-ipv6-empty", AUTHORITY, req(H, line="GET http://[]/ HTTP/1.1"), 400,
  "an empty IP-literal")
I("target-ipvfuture-bad", AUTHORITY, req(H, line="GET http://[v.x]/ HTTP/1.1"), 400,
  "IPvFuture without a version")
I("target-after-ip-literal", AUTHORITY, req(H, line="GET http://[::1]x/ HTTP/1.1"), 400,
  "junk after an IP-literal")
I("target-http-no-slashes", AUTHORITY, req(H, line="GET http:/p HTTP/1.1"), 400,
  "http: without an authority")
I("target-userinfo", USERINFO, req(H, line="GET http://user:pw@a.example/ HTTP/1.1"), 400,
  "userinfo (RFC 9110 §4.2.4)")
I("target-userinfo-empty", USERINFO, req(H, line="GET http://@a.example/ HTTP/1.1"), 400,
  "an empty userinfo")
I("target-scheme-ftp", SCHEME, req(H, line="GET ftp://a.example/f HTTP/1.1"), 400,
  "an ftp URI")
I("target-scheme-no-slashes", SCHEME, req(H, line="GET mailto:a@b.example HTTP/1.1"), 400,
  "a URI with no authority")
I("target-scheme-httpx", SCHEME, req(H, line="GET httpx://a.example/ HTTP/1.1"), 400,
  "a scheme that only looks like http")
I("target-no-form", TARGET, req(H, line="GET a HTTP/1.1"), 400, "no form at all")
I("target-query-only", TARGET, req(H, line="GET ?q HTTP/1.1"), 400, "a query without a path")
I("target-scheme-digit", TARGET, req(H, line="GET 1http://a/ HTTP/1.1"), 400,
  "a scheme must start with a letter")
I("target-authority-form-get", AUTHORITY_FORM, req(H, line="GET example.com:443 HTTP/1.1"),
  400, "host:port is CONNECT's form only")
I("connect-authority", CONNECT, req(("Host", "example.com:443"),
                                    line="CONNECT example.com:443 HTTP/1.1"), 501,
  "CONNECT: tsgi is no proxy")
I("connect-ipv6", CONNECT, req(H, line="CONNECT [::1]:443 HTTP/1.1"), 501,
  "CONNECT to an IPv6 address")
I("connect-origin-form", CONNECT_TARGET, req(H, line="CONNECT / HTTP/1.1"), 400,
  "CONNECT with a path")
I("connect-no-port", CONNECT_TARGET, req(H, line="CONNECT example.com HTTP/1.1"), 400,
  "CONNECT without a port")
I("connect-empty-port", CONNECT_TARGET, req(H, line="CONNECT example.com: HTTP/1.1"), 400,
  "CONNECT with an empty port")
I("connect-absolute-form", CONNECT_TARGET,
  req(H, line="CONNECT http://example.com:443/ HTTP/1.1"), 400, "CONNECT with a URI")
I("connect-userinfo", CONNECT_TARGET, req(H, line="CONNECT u@example.com:443 HTTP/1.1"),
  400, "CONNECT with userinfo")
I("target-version-first", VERSION, req(H, line="GET /#x HTTP/2.0"), 505,
  "the version is judged before the target")
I("target-before-fields", FRAGMENT, req(("X A", "b"), line="GET /#x HTTP/1.1"), 400,
  "the target is judged before the fields")
# limits
I("head-over-max", HEAD_TOO_LARGE, req(H, ("X-Big", "a" * 9000)), 431,
  "head longer than the default max_head (8192)")
I("head-over-max-small", HEAD_TOO_LARGE, req(H, ("X-A", "b" * 40)), 431, "head over max_head 64",
  max_head=64)
I("head-over-max-by-one", HEAD_TOO_LARGE, req(H), 431, "head one byte over max_head",
  max_head=len(req(H)) - 1)
I("leading-crlf-over-max", HEAD_TOO_LARGE, b"\r\n" * 100 + req(H), 431, "leading CRLFs count in max_head",
  max_head=150)
I("too-many-headers", TOO_MANY_FIELDS, req(H, *[("X-H%d" % i, "v") for i in range(128)]), 431,
  "129 fields")

# chunked bodies (the head is valid; the decoder must fail)
CH = req(H, TE, line="POST /c HTTP/1.1")


def IB(name, reason, body, why):
    I(name, reason, CH + b(body), 400, why, stage="body")


IB("chunk-size-nonhex", CHUNK_SIZE, "g\r\nhello\r\n0\r\n\r\n", "non-hex chunk size")
IB("chunk-size-empty", CHUNK_SIZE, "\r\nhello\r\n0\r\n\r\n", "empty chunk size")
IB("chunk-size-0x", CHUNK_SIZE, "0x5\r\nhello\r\n0\r\n\r\n", "0x prefix")
IB("chunk-size-negative", CHUNK_SIZE, "-5\r\nhello\r\n0\r\n\r\n", "negative size")
IB("chunk-size-plus", CHUNK_SIZE, "+5\r\nhello\r\n0\r\n\r\n", "signed size")
IB("chunk-size-leading-space", CHUNK_SIZE, " 5\r\nhello\r\n0\r\n\r\n", "space before the size")
IB("chunk-size-trailing-space", CHUNK_EXT, "5 \r\nhello\r\n0\r\n\r\n",
   "space after the size without an extension")
IB("chunk-size-2pow63", CHUNK_SIZE_LARGE, "8000000000000000\r\nhello\r\n0\r\n\r\n", "size 2^63")
IB("chunk-size-2pow64", CHUNK_SIZE_LARGE, "10000000000000000\r\nhello\r\n0\r\n\r\n", "size 2^64 (overflow)")
IB("chunk-size-huge", CHUNK_SIZE_LARGE, "f" * 40 + "\r\nhello\r\n0\r\n\r\n", "size far over 2^64")
IB("chunk-size-bare-lf", BARE_LF, "5\nhello\r\n0\r\n\r\n", "chunk-size line ended by a bare LF")
IB("chunk-size-bare-cr", BARE_CR, "5\rhello\r\n0\r\n\r\n", "chunk-size line ended by a bare CR")
IB("chunk-size-line-too-long", CHUNK_LINE, "0" * 5000 + "5\r\nhello\r\n0\r\n\r\n",
   "chunk-size line over kMaxLine")
IB("chunk-ext-no-name", CHUNK_EXT, "5;\r\nhello\r\n0\r\n\r\n", "; without a name")
IB("chunk-ext-no-value", CHUNK_EXT, "5;a=\r\nhello\r\n0\r\n\r\n", "= without a value")
IB("chunk-ext-space-in-name", CHUNK_EXT, "5;a b\r\nhello\r\n0\r\n\r\n", "space inside a name")
IB("chunk-ext-name-bad-char", CHUNK_EXT, "5;a@b\r\nhello\r\n0\r\n\r\n", "@ in a name")
IB("chunk-ext-bad-char", CHUNK_EXT, "5;a=b@c\r\nhello\r\n0\r\n\r\n", "@ in a token value")
IB("chunk-ext-ctl", CHUNK_EXT, "5;a=\x01\r\nhello\r\n0\r\n\r\n", "CTL in an extension")
IB("chunk-ext-unterminated-quote", CHUNK_EXT, '5;a="q\r\nhello\r\n0\r\n\r\n', "unterminated quote")
IB("chunk-ext-quote-ctl", CHUNK_EXT, '5;a="q\x00"\r\nhello\r\n0\r\n\r\n', "NUL in a quoted value")
IB("chunk-ext-after-quote", CHUNK_EXT, '5;a="q"x\r\nhello\r\n0\r\n\r\n', "junk after a quoted value")
IB("chunk-ext-trailing-ws", CHUNK_EXT, "5;a=b \r\nhello\r\n0\r\n\r\n", "BWS before CRLF")
IB("chunk-ext-no-semicolon", CHUNK_EXT, "5 a=b\r\nhello\r\n0\r\n\r\n", "extension without ;")
IB("chunk-ext-too-long", CHUNK_LINE, "5;a=" + "b" * 5000 + "\r\nhello\r\n0\r\n\r\n",
   "extension line over kMaxLine")
IB("chunk-ext-bare-lf", BARE_LF, "5;a=b\nhello\r\n0\r\n\r\n", "extension line ended by a bare LF")
IB("chunk-data-missing-crlf", CHUNK_DATA_END, "5\r\nhelloX0\r\n\r\n", "no CRLF after chunk data")
IB("chunk-data-too-long", CHUNK_DATA_END, "5\r\nhello world\r\n0\r\n\r\n", "more data than the size")
IB("chunk-data-bare-lf", BARE_LF, "5\r\nhello\n0\r\n\r\n", "bare LF after chunk data")
IB("chunk-data-bare-cr", BARE_CR, "5\r\nhello\r0\r\n\r\n", "bare CR after chunk data")
IB("last-chunk-bare-lf", BARE_LF, "0\n\r\n", "last-chunk line ended by a bare LF")
IB("final-bare-lf", BARE_LF, "0\r\n\n", "final line a bare LF")
IB("final-bare-cr", BARE_CR, "0\r\n\rX", "final CR not followed by LF")
IB("trailer-obs-fold", TRAILER, "0\r\nX-A: b\r\n c\r\n\r\n", "folded trailer")
IB("trailer-ws-before-colon", TRAILER, "0\r\nX-A : b\r\n\r\n", "space before a trailer colon")
IB("trailer-no-colon", TRAILER, "0\r\nX-A\r\n\r\n", "trailer line without a colon")
IB("trailer-empty-name", TRAILER, "0\r\n: b\r\n\r\n", "trailer with an empty name")
IB("trailer-nul", TRAILER, "0\r\nX-A: a\x00b\r\n\r\n", "NUL in a trailer value")
IB("trailer-bare-lf", BARE_LF, "0\r\nX-A: b\n\r\n", "trailer ended by a bare LF")
IB("trailer-bare-cr", BARE_CR, "0\r\nX-A: b\rc\r\n\r\n", "bare CR in a trailer")
IB("trailer-too-long", CHUNK_LINE, "0\r\nX-A: " + "b" * 5000 + "\r\n\r\n", "trailer line over kMaxLine")


write_corpus(HERE, ".http", valid, invalid)
