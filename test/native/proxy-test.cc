// Tests for native/protocol/proxy_parser.cc against the corpus in test/requests/proxy (made by
// its gen-corpus.py: NAME.bin, with NAME.json beside it), plus unit tests.
//
//   proxy-test test/requests/proxy
//
// Every case is parsed whole, then every prefix of it (the server parses what it has
// gathered, so a split is a prefix: each must give kParseNeedMore, or the very result
// the whole gives), then byte by byte as a server does it (the buffer growing a byte at
// a time until the first answer that is not kParseNeedMore). Every copy ends right
// before a PROT_NONE page, so reading past it crashes.
#include "protocol/proxy_parser.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "support.h"

using tsgi::ProxyHeader;
using tsgi::test::GuardBuffer;
using tsgi::test::Json;

namespace {

GuardBuffer g_buf(1 << 17);

struct Result {
  ssize_t rc = 0;
  std::string error;
  int version = 0;
  bool has_address = false;
  std::string src, dst;
  unsigned src_port = 0, dst_port = 0;

  bool operator==(const Result& o) const {
    return rc == o.rc && error == o.error && version == o.version &&
           has_address == o.has_address && src == o.src && dst == o.dst &&
           src_port == o.src_port && dst_port == o.dst_port;
  }
  std::string Describe() const {
    if (rc == tsgi::kParseNeedMore) return "need-more";
    if (rc == tsgi::kParseBad) return "bad: " + error;
    char b[256];
    snprintf(b, sizeof b, "ok consumed=%zd v%d %s %s:%u -> %s:%u", rc, version,
             has_address ? "address" : "keep-peer", src.c_str(), src_port, dst.c_str(),
             dst_port);
    return b;
  }
};

Result Parse(const std::string& in, size_t n) {
  const char* buf = g_buf.Put(in.data(), n);
  ProxyHeader h;
  const char* error = reinterpret_cast<const char*>(1);  // must be overwritten
  Result r;
  r.rc = tsgi::ParseProxyHeader(buf, n, &h, &error);
  if (r.rc == tsgi::kParseBad) {
    r.error = error != nullptr ? error : "(null)";
    return r;
  }
  if (error != nullptr) r.error = "error set on success";
  if (r.rc < 0) return r;
  r.version = h.version;
  r.has_address = h.has_address;
  if (h.has_address) {
    r.src = h.src_addr;
    r.dst = h.dst_addr;
    r.src_port = h.src_port;
    r.dst_port = h.dst_port;
  }
  return r;
}

Result Expected(const Json& exp) {
  Result r;
  if (const Json* e = exp.Get("error")) {
    r.rc = tsgi::kParseBad;
    r.error = e->str;
    return r;
  }
  r.rc = static_cast<ssize_t>(exp.NumOr("consumed", 0));
  r.version = static_cast<int>(exp.NumOr("version", 0));
  const Json* src = exp.Get("src");
  r.has_address = src != nullptr && src->kind == Json::kStr;
  if (r.has_address) {
    r.src = src->str;
    r.dst = exp.Get("dst")->str;
    r.src_port = static_cast<unsigned>(exp.NumOr("src_port", 0));
    r.dst_port = static_cast<unsigned>(exp.NumOr("dst_port", 0));
  }
  return r;
}

void RunCase(const std::string& input, const Json& exp, std::vector<std::string>* fails) {
  const Result want = Expected(exp);
  const Result whole = Parse(input, input.size());
  FAIL_IF(!(whole == want), "whole: got %s, want %s", whole.Describe().c_str(),
          want.Describe().c_str());
  // Every prefix: need-more, or the whole's result.
  for (size_t k = 0; k < input.size(); ++k) {
    const Result p = Parse(input, k);
    FAIL_IF(p.rc != tsgi::kParseNeedMore && !(p == whole), "prefix %zu: got %s, want %s or need-more",
            k, p.Describe().c_str(), whole.Describe().c_str());
    // A valid header is not complete before its last byte.
    FAIL_IF(whole.rc >= 0 && k < static_cast<size_t>(whole.rc) && p.rc != tsgi::kParseNeedMore,
            "prefix %zu of a %zd-byte header: got %s", k, whole.rc, p.Describe().c_str());
  }
  // Byte by byte, stopping at the first answer.
  Result last;
  for (size_t k = 1; k <= input.size(); ++k) {
    last = Parse(input, k);
    if (last.rc != tsgi::kParseNeedMore) break;
  }
  FAIL_IF(!(last == whole), "byte by byte: got %s, want %s", last.Describe().c_str(),
          whole.Describe().c_str());
}

void UnitTests() {
  ProxyHeader h;
  const char* error = nullptr;
  // Nothing yet is need-more; one wrong byte is bad at once (a plain HTTP client
  // on a PROXY listener is refused on its first byte, not after a timeout).
  CHECK(tsgi::ParseProxyHeader("", 0, &h, &error) == tsgi::kParseNeedMore);
  CHECK(tsgi::ParseProxyHeader("G", 1, &h, &error) == tsgi::kParseBad);
  CHECK(tsgi::ParseProxyHeader("PROX", 4, &h, &error) == tsgi::kParseNeedMore);
  CHECK(tsgi::ParseProxyHeader("\r\n\r\n\0", 5, &h, &error) == tsgi::kParseNeedMore);
  CHECK(tsgi::ParseProxyHeader("\r\n\r\nX", 5, &h, &error) == tsgi::kParseBad);
  // A v1 line that is still short of 106 bytes with no CR waits; at 106 it is bad.
  std::string line = "PROXY UNKNOWN ";
  line.resize(105, 'x');
  CHECK(tsgi::ParseProxyHeader(line.data(), line.size(), &h, &error) == tsgi::kParseNeedMore);
  line.push_back('x');
  CHECK(tsgi::ParseProxyHeader(line.data(), line.size(), &h, &error) == tsgi::kParseBad);
  // v2's declared length is waited for whole, TLVs and all.
  std::string v2("\r\n\r\n\0\r\nQUIT\n\x21\x11\x01\x00", 16);
  v2.append(12, '\x01');
  CHECK(tsgi::ParseProxyHeader(v2.data(), v2.size(), &h, &error) == tsgi::kParseNeedMore);
  v2.append(256 - 12, '\0');
  CHECK(tsgi::ParseProxyHeader(v2.data(), v2.size(), &h, &error) == 16 + 256);
  CHECK(h.has_address && std::strcmp(h.src_addr, "1.1.1.1") == 0 && h.src_port == 257);
}

}  // namespace

int main(int argc, char** argv) {
  return tsgi::test::CorpusTestMain(
      argc, argv, {"proxy: ", "test/requests/proxy", ".bin", RunCase, RunCase, UnitTests});
}
