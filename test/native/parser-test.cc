// Tests for native/protocol/http_parser.cc against the corpus in test/requests (see its
// README.md for the file format), plus unit tests.
//
//   parser-test test/requests
//
// Every corpus case is parsed whole, then every prefix of it (which covers both
// "split in two at every offset" — a server re-parses prefix, then the whole — and
// "byte by byte" — prefixes of growing length, which must be monotonic), and its
// chunked body, if any, is fed whole, in two pieces split at every offset, and byte
// by byte. Every piece is copied to the end of a buffer followed by a PROT_NONE
// page, so reading past it crashes.
//
// Prints "N passed, N failed" last; exits 1 when anything failed.
#include "protocol/http_parser.h"

#include <cstdio>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support.h"

using tsgi::BodyFraming;
using tsgi::ChunkedDecoder;
using tsgi::HttpError;
using tsgi::HttpRequestHead;
using tsgi::StrView;
using tsgi::test::GuardBuffer;
using tsgi::test::Json;

#include "parser-results.h"

namespace {

// ----------------------------------------------------------------------------
// Corpus cases.

// A case's max_head when its .json gives none (see README.md).
constexpr size_t kDefaultMaxHead = 8192;

const char* FramingName(BodyFraming f) {
  switch (f) {
    case BodyFraming::kNone: return "none";
    case BodyFraming::kContentLength: return "content-length";
    case BodyFraming::kChunked: return "chunked";
  }
  return "?";
}

// Checks that every prefix of input gives need-more or the whole result, that
// the results are monotonic, and that a valid head is need-more before its end.
void CheckPrefixes(const std::string& input, size_t max_head, const HeadResult& whole,
                   std::vector<std::string>* fails) {
  bool decided = false;
  for (size_t k = 0; k < input.size(); ++k) {
    const HeadResult p = ParseHead(input, k, max_head);
    FAIL_IF(!p.view_error.empty(), "prefix %zu: %s", k, p.view_error.c_str());
    if (p.rc == tsgi::kParseNeedMore) {
      FAIL_IF(decided, "prefix %zu: need-more after a shorter prefix was decided", k);
      FAIL_IF(whole.rc >= 0 && static_cast<size_t>(whole.rc) <= k,
              "prefix %zu: need-more though the head (%zd bytes) is complete", k, whole.rc);
      continue;
    }
    decided = true;
    FAIL_IF(p != whole, "prefix %zu: %s, whole: %s", k, p.Describe().c_str(),
            whole.Describe().c_str());
  }
}

void CheckBody(const std::string& input, size_t head_len, const BodyResult& whole,
               std::vector<std::string>* fails) {
  const char* body = input.data() + head_len;
  const size_t n = input.size() - head_len;
  FAIL_IF(!whole.error.empty(), "whole body: %s", whole.error.c_str());
  for (size_t k = 1; k < n; ++k) {
    const BodyResult r = Decode(body, n, {k, n - k});
    FAIL_IF(!r.error.empty(), "body split at %zu: %s", k, r.error.c_str());
    FAIL_IF(!(r == whole), "body split at %zu: %s, whole: %s", k, r.Describe().c_str(),
            whole.Describe().c_str());
  }
  const BodyResult r = Decode(body, n, std::vector<size_t>(n, 1));
  FAIL_IF(!r.error.empty(), "body byte by byte: %s", r.error.c_str());
  FAIL_IF(!(r == whole), "body byte by byte: %s, whole: %s", r.Describe().c_str(),
          whole.Describe().c_str());
}

void RunValid(const std::string& input, const Json& exp, std::vector<std::string>* fails) {
  const size_t max_head = static_cast<size_t>(exp.NumOr("max_head", kDefaultMaxHead));
  const HeadResult w = ParseHead(input, input.size(), max_head);
  FAIL_IF(!w.view_error.empty(), "whole: %s", w.view_error.c_str());
  FAIL_IF(w.rc < 0, "whole: %s", w.Describe().c_str());
  if (w.rc < 0) return;

  const Json* f;
  f = exp.Get("method");
  FAIL_IF(!f || w.method != f->str, "method %s", Printable(w.method).c_str());
  f = exp.Get("target");
  FAIL_IF(!f || w.target != f->str, "target %s", Printable(w.target).c_str());
  f = exp.Get("minor_version");
  FAIL_IF(!f || static_cast<uint64_t>(w.minor_version) != f->num, "minor_version %d",
          w.minor_version);
  f = exp.Get("headers");
  FAIL_IF(!f || f->kind != Json::kArr, "json: no headers");
  FAIL_IF(f->arr.size() != w.headers.size(), "%zu headers, want %zu", w.headers.size(),
          f->arr.size());
  for (size_t i = 0; i < w.headers.size() && i < f->arr.size(); ++i) {
    const Json& h = f->arr[i];
    FAIL_IF(h.arr.size() != 2 || h.arr[0].str != w.headers[i].first ||
                h.arr[1].str != w.headers[i].second,
            "header %zu is [%s, %s]", i, Printable(w.headers[i].first).c_str(),
            Printable(w.headers[i].second).c_str());
  }
  f = exp.Get("framing");
  FAIL_IF(!f || f->str != FramingName(w.framing), "framing %s", FramingName(w.framing));
  f = exp.Get("content_length");
  FAIL_IF(!f || f->num != w.content_length, "content_length %llu",
          static_cast<unsigned long long>(w.content_length));
  f = exp.Get("keep_alive");
  FAIL_IF(!f || f->b != w.keep_alive, "keep_alive %d", w.keep_alive);
  f = exp.Get("expect_continue");
  FAIL_IF(!f || f->b != w.expect_continue, "expect_continue %d", w.expect_continue);
  f = exp.Get("upgrade");
  FAIL_IF(!f || f->b != w.upgrade, "upgrade %d", w.upgrade);
  f = exp.Get("host");
  FAIL_IF(!f, "json: no host");
  FAIL_IF((f->kind == Json::kNull) == w.has_host || (w.has_host && w.host != f->str),
          "host %s", w.has_host ? Printable(w.host).c_str() : "(none)");
  f = exp.Get("authority");
  FAIL_IF(!f || w.authority != f->str, "authority %s", Printable(w.authority).c_str());

  CheckPrefixes(input, max_head, w, fails);

  // The same head with max_head exactly its size is fine; one byte less is 431.
  const HeadResult exact = ParseHead(input, input.size(), static_cast<size_t>(w.rc));
  FAIL_IF(exact != w, "max_head = head size: %s", exact.Describe().c_str());
  const HeadResult less = ParseHead(input, input.size(), static_cast<size_t>(w.rc) - 1);
  FAIL_IF(less.rc != tsgi::kParseBad || less.error != HttpError::kHeadTooLarge,
          "max_head = head size - 1: %s",
          less.Describe().c_str());

  const Json* body = exp.Get("body");
  const Json* consumed = exp.Get("consumed");
  FAIL_IF(!body || !consumed, "json: no body or consumed");
  const size_t head_len = static_cast<size_t>(w.rc);
  if (w.framing == BodyFraming::kChunked) {
    const BodyResult r = Decode(input.data() + head_len, input.size() - head_len,
                                {input.size() - head_len});
    FAIL_IF(r.result != ChunkedDecoder::Result::kDone, "body: %s", r.Describe().c_str());
    FAIL_IF(head_len + r.consumed != consumed->num, "consumed %zu + %zu", head_len,
            r.consumed);
    FAIL_IF(r.data != body->str, "body %s", Printable(r.data).c_str());
    FAIL_IF(r.body_bytes != r.data.size(), "body_bytes %llu",
            static_cast<unsigned long long>(r.body_bytes));
    CheckBody(input, head_len, r, fails);
  } else if (w.framing == BodyFraming::kContentLength) {
    FAIL_IF(input.size() - head_len < w.content_length, "corpus: body shorter than CL");
    FAIL_IF(input.compare(head_len, static_cast<size_t>(w.content_length), body->str) != 0,
            "content-length body differs");
    FAIL_IF(head_len + w.content_length != consumed->num, "consumed %zu + %llu", head_len,
            static_cast<unsigned long long>(w.content_length));
  } else {
    FAIL_IF(!body->str.empty(), "corpus: body without framing");
    FAIL_IF(head_len != consumed->num, "consumed %zu", head_len);
  }
}

void RunInvalid(const std::string& input, const Json& exp, std::vector<std::string>* fails) {
  const size_t max_head = static_cast<size_t>(exp.NumOr("max_head", kDefaultMaxHead));
  const Json* status = exp.Get("status");
  const Json* reason = exp.Get("reason");
  const Json* stage = exp.Get("stage");
  FAIL_IF(!status || !reason, "json: no status or reason");
  const bool body_stage = stage && stage->str == "body";
  const HeadResult w = ParseHead(input, input.size(), max_head);
  FAIL_IF(!w.view_error.empty(), "whole: %s", w.view_error.c_str());
  if (!body_stage) {
    FAIL_IF(w.rc != tsgi::kParseBad || static_cast<uint64_t>(w.status) != status->num ||
                reason->str != tsgi::DescribeHttpError(w.error).reason,
            "whole: %s, want bad %llu (%s)", w.Describe().c_str(),
            static_cast<unsigned long long>(status->num), reason->str.c_str());
    CheckPrefixes(input, max_head, w, fails);
    return;
  }
  FAIL_IF(w.rc < 0 || w.framing != BodyFraming::kChunked, "head: %s, want chunked",
          w.Describe().c_str());
  CheckPrefixes(input, max_head, w, fails);
  const size_t head_len = static_cast<size_t>(w.rc);
  const BodyResult r =
      Decode(input.data() + head_len, input.size() - head_len, {input.size() - head_len});
  FAIL_IF(r.result != ChunkedDecoder::Result::kBad ||
              reason->str != tsgi::DescribeHttpError(r.error_code).reason ||
              status->num != 400,
          "body: %s, want bad 400 (%s)", r.Describe().c_str(), reason->str.c_str());
  CheckBody(input, head_len, r, fails);
}

// ----------------------------------------------------------------------------
// Unit tests.

std::string Str(StrView v) { return v.data ? std::string(v.data, v.len) : std::string(); }

std::string Pd(const std::string& s) {
  GuardBuffer& g = g_piece_a;
  const char* p = g.Put(s.data(), s.size());
  std::string out = "garbage";
  tsgi::PercentDecode(p, s.size(), &out);
  return out;
}

struct Split {
  HttpError error;
  std::string path, query, authority;
  bool has_query;
};

Split St(const std::string& method, const std::string& s) {
  const char* m = g_piece_b.Put(method.data(), method.size());
  const char* p = g_piece_a.Put(s.data(), s.size());
  StrView path{p, 1}, query{p, 1}, authority{p, 1};
  Split r;
  r.error = tsgi::SplitTarget(StrView{m, method.size()}, StrView{p, s.size()}, &path, &query,
                              &authority);
  r.path = Str(path);
  r.query = Str(query);
  r.authority = Str(authority);
  r.has_query = query.data != nullptr;
  const auto inside = [&](StrView v) { return ViewInside(v, p, p + s.size()); };
  if (!inside(path) || !inside(query) || !inside(authority)) r.path = "<OUTSIDE>";
  if (r.error != HttpError::kNone && (path.len || query.len || authority.len)) r.path = "<SET>";
  return r;
}
Split St(const std::string& s) { return St("GET", s); }

bool StEq(const std::string& s, const char* path, const char* query, const char* authority,
          const std::string& method = "GET") {
  const Split r = St(method, s);
  const bool ok = r.error == HttpError::kNone && r.path == path && r.query == query &&
                  r.authority == authority;
  if (!ok) {
    printf("    SplitTarget(%s %s) = %s [%s] [%s] [%s]\n", method.c_str(), s.c_str(),
           tsgi::DescribeHttpError(r.error).reason, r.path.c_str(), r.query.c_str(),
           r.authority.c_str());
  }
  return ok;
}

bool StErr(const std::string& method, const std::string& s, HttpError want) {
  const Split r = St(method, s);
  if (r.error != want) {
    printf("    SplitTarget(%s %s) = %s, want %s\n", method.c_str(), s.c_str(),
           tsgi::DescribeHttpError(r.error).reason, tsgi::DescribeHttpError(want).reason);
  }
  return r.error == want && r.path != "<SET>";
}

void Noop(void*, const char*, size_t) {}

void UnitTests() {
  using std::string;
  // PercentDecode
  CHECK(Pd("") == "");
  CHECK(Pd("/plain/path") == "/plain/path");
  CHECK(Pd("/a%20b") == "/a b");
  CHECK(Pd("%41%42%43") == "ABC");
  CHECK(Pd("%2f%2F") == "//");
  CHECK(Pd("%e9%C3%A9") == "\xe9\xc3\xa9");
  CHECK(Pd("%00x") == string("\0x", 2));
  CHECK(Pd("%ff") == "\xff");
  CHECK(Pd("a+b") == "a+b");
  CHECK(Pd("%") == "%");
  CHECK(Pd("%4") == "%4");
  CHECK(Pd("a%") == "a%");
  CHECK(Pd("a%4") == "a%4");
  CHECK(Pd("%zz") == "%zz");
  CHECK(Pd("%4g") == "%4g");
  CHECK(Pd("%%41") == "%A");
  CHECK(Pd("%2541") == "%41");  // decoded once only
  CHECK(Pd("100%") == "100%");
  CHECK(Pd("%%%") == "%%%");

  // SplitTarget
  CHECK(StEq("/", "/", "", ""));
  CHECK(StEq("/a/b", "/a/b", "", ""));
  CHECK(StEq("/a/b?x=1&y=2", "/a/b", "x=1&y=2", ""));
  CHECK(StEq("/a?", "/a", "", ""));
  CHECK(StEq("/a?b?c", "/a", "b?c", ""));
  CHECK(StEq("//x", "//x", "", ""));
  CHECK(StEq("*", "*", "", "", "OPTIONS"));
  CHECK(StEq("http://example.com:8080/p/a?x=1", "/p/a", "x=1", "example.com:8080"));
  CHECK(StEq("http://example.com", "", "", "example.com"));
  CHECK(StEq("http://example.com?q", "", "q", "example.com"));
  CHECK(StEq("HTTPS://h/", "/", "", "h"));
  CHECK(StEq("http://[::1]:80/x", "/x", "", "[::1]:80"));
  CHECK(StEq("http://h:/", "/", "", "h:"));
  CHECK(StEq("/a%23b", "/a%23b", "", ""));
  CHECK(StErr("GET", "", HttpError::kTarget));
  CHECK(StErr("GET", "example.com:443", HttpError::kAuthorityForm));
  CHECK(StErr("GET", "a", HttpError::kTarget));
  CHECK(StErr("OPTIONS", "*x", HttpError::kTarget));
  CHECK(StErr("OPTIONS", "**", HttpError::kTarget));
  CHECK(StErr("GET", "*", HttpError::kAsterisk));
  CHECK(StErr("GET", "http:/x", HttpError::kAuthority));
  CHECK(StErr("GET", "http:", HttpError::kAuthority));
  CHECK(StErr("GET", "http://", HttpError::kAuthority));
  CHECK(StErr("GET", "http:///p", HttpError::kAuthority));
  CHECK(StErr("GET", "http://h%4/", HttpError::kAuthority));
  CHECK(StErr("GET", "http://[::1/", HttpError::kAuthority));
  CHECK(StErr("GET", "http://[v1]/", HttpError::kAuthority));
  CHECK(StErr("GET", "http://[v1.]/", HttpError::kAuthority));
  CHECK(StErr("GET", "http://user@host/p", HttpError::kUserinfo));
  CHECK(StErr("GET", "ftp://host/p", HttpError::kScheme));
  CHECK(StErr("GET", "s://]ufd/:", HttpError::kAuthority));
  CHECK(StErr("GET", "1http://h/", HttpError::kTarget));
  CHECK(StErr("GET", "?q", HttpError::kTarget));
  CHECK(StErr("GET", "/a#", HttpError::kFragment));
  CHECK(StErr("GET", "/a?b#c", HttpError::kFragment));
  CHECK(StErr("GET", "http://h?#", HttpError::kFragment));
  CHECK(StErr("CONNECT", "h:443", HttpError::kConnect));
  CHECK(StErr("CONNECT", "[::1]:443", HttpError::kConnect));
  CHECK(StErr("CONNECT", "h", HttpError::kConnectTarget));
  CHECK(StErr("CONNECT", "/", HttpError::kConnectTarget));
  CHECK(StErr("CONNECT", "*", HttpError::kConnectTarget));
  CHECK(StErr("connect", "h:443", HttpError::kAuthorityForm));
  CHECK(St("/a?b").has_query);
  CHECK(St("/a?").has_query);
  CHECK(!St("/a").has_query);
  {
    StrView a, b, c;
    CHECK(tsgi::SplitTarget(StrView{"GET", 3}, StrView{}, &a, &b, &c) == HttpError::kTarget);
  }
  // Every error has a status and a reason of its own.
  for (size_t i = 1; i < static_cast<size_t>(HttpError::kCount); ++i) {
    const tsgi::HttpErrorInfo& e = tsgi::DescribeHttpError(static_cast<HttpError>(i));
    CHECK(e.status == 400 || e.status == 431 || e.status == 501 || e.status == 505);
    CHECK(e.reason != nullptr && e.reason[0] != '\0');
    for (size_t j = 1; j < i; ++j) {
      CHECK(string(e.reason) != tsgi::DescribeHttpError(static_cast<HttpError>(j)).reason);
    }
  }
  CHECK(tsgi::DescribeHttpError(HttpError::kNone).status == 0);

  // ParseRequestHead edge cases.
  {
    HttpRequestHead h;
    HttpError status = HttpError::kNone;
    const HttpError k431 = HttpError::kHeadTooLarge;
    const string req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    const char* p = g_head_buf.Put(req.data(), req.size());
    CHECK(tsgi::ParseRequestHead(p, 0, 8192, &h, &status) == tsgi::kParseNeedMore);
    status = HttpError::kNone;
    CHECK(tsgi::ParseRequestHead(p, 0, 0, &h, &status) == tsgi::kParseBad && status == k431);
    CHECK(tsgi::ParseRequestHead(p, req.size(), req.size(), &h, &status) ==
          static_cast<ssize_t>(req.size()));
    status = HttpError::kNone;
    CHECK(tsgi::ParseRequestHead(p, req.size(), req.size() - 1, &h, &status) ==
              tsgi::kParseBad && status == k431);
    status = HttpError::kNone;
    // An incomplete head shorter than max_head needs more; at max_head it is 431.
    CHECK(tsgi::ParseRequestHead(p, 10, 11, &h, &status) == tsgi::kParseNeedMore);
    CHECK(tsgi::ParseRequestHead(p, 10, 10, &h, &status) == tsgi::kParseBad && status == k431);
    // A reused head struct is reset.
    const string post =
        "POST / HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\nHost: h\r\n\r\n";
    const char* q = g_head_buf.Put(post.data(), post.size());
    CHECK(tsgi::ParseRequestHead(q, post.size(), 8192, &h, &status) ==
          static_cast<ssize_t>(post.size()));
    CHECK(h.framing == BodyFraming::kContentLength && h.expect_continue && !h.keep_alive &&
          h.has_host && h.minor_version == 0 && h.num_headers == 3);
    p = g_head_buf.Put(req.data(), req.size());
    CHECK(tsgi::ParseRequestHead(p, req.size(), 8192, &h, &status) ==
          static_cast<ssize_t>(req.size()));
    CHECK(h.framing == BodyFraming::kNone && !h.expect_continue && h.keep_alive &&
          h.content_length == 0 && h.minor_version == 1 && h.num_headers == 1 &&
          Str(h.host) == "x" && Str(h.method) == "GET" && Str(h.target) == "/");
  }

  // ChunkedDecoder: reuse after Reset, Feed after kDone, empty feeds.
  {
    ChunkedDecoder d;
    string out;
    Sink sink{&out, nullptr, nullptr};
    size_t consumed = 0;
    const string body = "3\r\nabc\r\n0\r\n\r\nNEXT";
    const char* p = g_piece_a.Put(body.data(), body.size());
    sink.lo = p;
    sink.hi = p + body.size();
    CHECK(d.Feed(p, 0, &consumed, OnData, &sink) == ChunkedDecoder::Result::kNeedMore &&
          consumed == 0);
    CHECK(d.Feed(p, body.size(), &consumed, OnData, &sink) == ChunkedDecoder::Result::kDone &&
          consumed == body.size() - 4 && out == "abc" && d.body_bytes() == 3);
    CHECK(d.Feed(p, body.size(), &consumed, OnData, &sink) == ChunkedDecoder::Result::kDone &&
          consumed == 0);
    d.Reset();
    CHECK(d.body_bytes() == 0);
    out.clear();
    CHECK(d.Feed(p, body.size(), &consumed, OnData, &sink) == ChunkedDecoder::Result::kDone &&
          consumed == body.size() - 4 && out == "abc");
    // kBad is sticky until Reset.
    d.Reset();
    const string bad = "x\r\n";
    const char* b = g_piece_b.Put(bad.data(), bad.size());
    CHECK(d.Feed(b, bad.size(), &consumed, Noop, nullptr) == ChunkedDecoder::Result::kBad);
    CHECK(d.error() == HttpError::kChunkSize);
    CHECK(d.Feed(p, body.size(), &consumed, Noop, nullptr) == ChunkedDecoder::Result::kBad);
    CHECK(d.error() == HttpError::kChunkSize);
    d.Reset();
    CHECK(d.error() == HttpError::kNone);
    CHECK(d.Feed(p, body.size(), &consumed, Noop, nullptr) == ChunkedDecoder::Result::kDone);
    // The largest size accepted is 2^63-1.
    d.Reset();
    const string max = "7fffffffffffffff\r\nabc";
    const char* m = g_piece_b.Put(max.data(), max.size());
    CHECK(d.Feed(m, max.size(), &consumed, Noop, nullptr) == ChunkedDecoder::Result::kNeedMore &&
          d.body_bytes() == 3);
    // A size line of exactly kMaxLine bytes is fine, one more is not.
    d.Reset();
    const string line = string(ChunkedDecoder::kMaxLine - 1, '0') + "3\r\nabc\r\n0\r\n\r\n";
    const char* l = g_piece_b.Put(line.data(), line.size());
    CHECK(d.Feed(l, line.size(), &consumed, Noop, nullptr) == ChunkedDecoder::Result::kDone);
    d.Reset();
    const string line2 = string(ChunkedDecoder::kMaxLine, '0') + "3\r\nabc\r\n0\r\n\r\n";
    const char* l2 = g_piece_b.Put(line2.data(), line2.size());
    CHECK(d.Feed(l2, line2.size(), &consumed, Noop, nullptr) == ChunkedDecoder::Result::kBad);
  }
}

}  // namespace

int main(int argc, char** argv) {
  return tsgi::test::CorpusTestMain(
      argc, argv, {"", "test/requests", ".http", RunValid, RunInvalid, UnitTests});
}
