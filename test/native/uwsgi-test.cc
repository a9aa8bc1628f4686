// Tests for native/protocol/uwsgi_parser.cc against the corpus in test/uwsgi (see its
// README.md for the file format), plus unit tests.
//
//   uwsgi-test test/uwsgi
//
// Every corpus case is parsed whole, then every prefix of it (each must give
// kParseNeedMore, or the very result the whole gives), then byte by byte as a
// server does it (one UwsgiRequest reused, the buffer growing one byte at a time,
// stopping at the first answer that is not kParseNeedMore). Every copy is placed
// so that it ends right before a PROT_NONE page, so reading past it crashes.
//
// Prints "uwsgi: N passed, N failed" last; exits 1 when anything failed.
#include "protocol/uwsgi_parser.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "support.h"

using tsgi::StrView;
using tsgi::UwsgiRequest;
using tsgi::test::GuardBuffer;
using tsgi::test::Json;

namespace {

// ----------------------------------------------------------------------------
// Parsing with results copied out, so that results can be compared.

using Vars = std::vector<std::pair<std::string, std::string>>;

struct Result {
  ssize_t rc = 0;
  const char* error = nullptr;
  int modifier1 = 0, modifier2 = 0;
  Vars vars;
  uint64_t content_length = 0;
  int idx[7] = {-1, -1, -1, -1, -1, -1, -1};
  std::string view_error;  // a view or a field out of place, if any

  bool operator==(const Result& o) const {
    if (rc != o.rc) return false;
    if (rc == tsgi::kParseBad) return error == o.error;  // the same static sentence
    if (rc == tsgi::kParseNeedMore) return true;
    return modifier1 == o.modifier1 && modifier2 == o.modifier2 && vars == o.vars &&
           content_length == o.content_length && std::equal(idx, idx + 7, o.idx);
  }
  bool operator!=(const Result& o) const { return !(*this == o); }

  std::string Describe() const {
    if (rc == tsgi::kParseNeedMore) return "need-more";
    if (rc == tsgi::kParseBad) return std::string("bad: ") + (error ? error : "(null)");
    char b[256];
    snprintf(b, sizeof b,
             "ok consumed=%zd mod=%d/%d vars=%zu cl=%llu idx=%d,%d,%d,%d,%d,%d,%d", rc,
             modifier1, modifier2, vars.size(), static_cast<unsigned long long>(content_length),
             idx[0], idx[1], idx[2], idx[3], idx[4], idx[5], idx[6]);
    return b;
  }
};

const char* const kIndexNames[7] = {"REQUEST_METHOD",  "REQUEST_URI",    "PATH_INFO",
                                    "QUERY_STRING",    "SERVER_PROTOCOL", "CONTENT_LENGTH",
                                    "SCRIPT_NAME"};

void Indices(const UwsgiRequest& r, int out[7]) {
  out[0] = r.request_method;
  out[1] = r.request_uri;
  out[2] = r.path_info;
  out[3] = r.query_string;
  out[4] = r.server_protocol;
  out[5] = r.content_length_var;
  out[6] = r.script_name;
}

size_t U16At(const char* p) {
  return static_cast<size_t>(static_cast<unsigned char>(p[0])) |
         (static_cast<size_t>(static_cast<unsigned char>(p[1])) << 8);
}

GuardBuffer g_buf(1 << 17);
GuardBuffer g_inc(1 << 17);
UwsgiRequest g_req;

// Copies what a parse left in req out, checking every view against the bytes: var
// i must be the i-th pair of the block, exactly where the block has it.
Result Collect(ssize_t rc, const char* error, const char* buf, size_t n, const UwsgiRequest& req) {
  Result r;
  r.rc = rc;
  r.error = error;
  if (rc == tsgi::kParseBad) {
    if (error == nullptr || *error == '\0') r.view_error = "kParseBad without an error";
    return r;
  }
  if (rc == tsgi::kParseNeedMore) return r;
  if (rc < 4 || static_cast<size_t>(rc) > n) {
    r.view_error = "consumed out of range";
    return r;
  }
  if (static_cast<size_t>(rc) != 4 + U16At(buf + 1)) r.view_error = "consumed is not 4 + size";
  if (req.modifier1 != static_cast<unsigned char>(buf[0]) ||
      req.modifier2 != static_cast<unsigned char>(buf[3])) {
    r.view_error = "modifiers differ from the header";
  }
  if (req.num_vars > UwsgiRequest::kMaxVars) {
    r.view_error = "num_vars over kMaxVars";
    return r;
  }
  r.modifier1 = req.modifier1;
  r.modifier2 = req.modifier2;
  r.content_length = req.content_length;
  Indices(req, r.idx);
  const char* p = buf + 4;
  for (size_t i = 0; i < req.num_vars; ++i) {
    const tsgi::UwsgiVar& v = req.vars[i];
    if (v.key.data != p + 2 || v.key.len != U16At(p) ||
        v.value.data != p + 2 + v.key.len + 2 || v.value.len != U16At(p + 2 + v.key.len) ||
        v.value.data + v.value.len > buf + rc) {
      r.view_error = "var " + std::to_string(i) + " is not where the block has it";
      return r;
    }
    p = v.value.data + v.value.len;
    r.vars.emplace_back(std::string(v.key.data, v.key.len), std::string(v.value.data, v.value.len));
  }
  if (p != buf + rc) r.view_error = "the vars do not cover the block";
  for (int k = 0; k < 7; ++k) {
    if (r.idx[k] < -1 || r.idx[k] >= static_cast<int>(req.num_vars)) {
      r.view_error = std::string("index of ") + kIndexNames[k] + " out of range";
    }
  }
  return r;
}

Result Parse(const std::string& input, size_t n, size_t max_size) {
  const char* buf = g_buf.Put(input.data(), n);
  // A used-looking struct, so that a field left unset shows.
  memset(static_cast<void*>(&g_req), 0xA5, sizeof g_req);
  const char* error = nullptr;
  const ssize_t rc = tsgi::ParseUwsgiPacket(buf, n, max_size, &g_req, &error);
  return Collect(rc, error, buf, n, g_req);
}

// ----------------------------------------------------------------------------
// Corpus cases.

// A case's max_size when its .json gives none (see README.md).
constexpr size_t kDefaultMaxSize = 4096;

// The smallest prefix length that may be judged: 4 for a header fault, else the
// whole packet (the vars block is judged only once it is all in).
size_t DecidedAt(const std::string& input, bool from_header) {
  if (from_header || input.size() < 3) return 4;
  return 4 + U16At(input.data() + 1);
}

// Every prefix: need-more below decided_at, the whole result from there on.
void CheckPrefixes(const std::string& input, size_t max_size, const Result& whole,
                   size_t decided_at, std::vector<std::string>* fails) {
  for (size_t k = 0; k <= input.size(); ++k) {
    const Result p = Parse(input, k, max_size);
    FAIL_IF(!p.view_error.empty(), "prefix %zu: %s", k, p.view_error.c_str());
    if (k < decided_at) {
      FAIL_IF(p.rc != tsgi::kParseNeedMore, "prefix %zu: %s, want need-more", k,
              p.Describe().c_str());
    } else {
      FAIL_IF(p != whole, "prefix %zu: %s, whole: %s", k, p.Describe().c_str(),
              whole.Describe().c_str());
    }
  }
}

// As a server reads: the bytes arrive one at a time into a growing buffer and the
// same UwsgiRequest is parsed into again after each, until an answer comes.
void CheckByteByByte(const std::string& input, size_t max_size, const Result& whole,
                     size_t decided_at, std::vector<std::string>* fails) {
  g_inc.Reserve(input.size() + 1);
  UwsgiRequest& req = g_req;
  memset(static_cast<void*>(&req), 0x5A, sizeof req);
  const char* buf = g_inc.Put(input.data(), 0);
  for (size_t n = 0;; ++n) {
    const char* error = nullptr;
    const ssize_t rc = tsgi::ParseUwsgiPacket(buf, n, max_size, &req, &error);
    if (rc == tsgi::kParseNeedMore) {
      FAIL_IF(n >= decided_at, "byte by byte: need-more at %zu bytes", n);
      if (n == input.size()) break;
      buf = g_inc.Append(n, input[n]);
      continue;
    }
    const Result r = Collect(rc, error, buf, n, req);
    FAIL_IF(!r.view_error.empty(), "byte by byte, %zu bytes: %s", n, r.view_error.c_str());
    FAIL_IF(n != decided_at, "byte by byte: answered at %zu bytes, want %zu", n, decided_at);
    FAIL_IF(r != whole, "byte by byte: %s, whole: %s", r.Describe().c_str(),
            whole.Describe().c_str());
    return;
  }
  FAIL_IF(true, "byte by byte: still need-more after all %zu bytes", input.size());
}

// For failure messages; CR and LF show as \x0d and \x0a like other control bytes.
std::string Printable(const std::string& s, size_t max = 80) {
  return tsgi::test::Printable(s, max, false);
}

void RunValid(const std::string& input, const Json& exp, std::vector<std::string>* fails) {
  const size_t max_size = static_cast<size_t>(exp.NumOr("max_size", kDefaultMaxSize));
  const Result w = Parse(input, input.size(), max_size);
  FAIL_IF(!w.view_error.empty(), "whole: %s", w.view_error.c_str());
  FAIL_IF(w.rc < 0, "whole: %s", w.Describe().c_str());
  if (w.rc < 0) return;
  const size_t consumed = static_cast<size_t>(w.rc);

  const Json* f;
  f = exp.Get("modifier1");
  FAIL_IF(!f || f->num != static_cast<uint64_t>(w.modifier1), "modifier1 %d", w.modifier1);
  f = exp.Get("modifier2");
  FAIL_IF(!f || f->num != static_cast<uint64_t>(w.modifier2), "modifier2 %d", w.modifier2);
  f = exp.Get("consumed");
  FAIL_IF(!f || f->num != consumed, "consumed %zu", consumed);
  f = exp.Get("content_length");
  FAIL_IF(!f || f->num != w.content_length, "content_length %llu",
          static_cast<unsigned long long>(w.content_length));
  f = exp.Get("body");
  FAIL_IF(!f || input.compare(consumed, std::string::npos, f->str) != 0,
          "the bytes after the packet are not the body");
  f = exp.Get("vars");
  FAIL_IF(!f || f->kind != Json::kArr, "json: no vars");
  FAIL_IF(f->arr.size() != w.vars.size(), "%zu vars, want %zu", w.vars.size(), f->arr.size());
  int want_idx[7] = {-1, -1, -1, -1, -1, -1, -1};
  for (size_t i = 0; i < f->arr.size() && i < w.vars.size(); ++i) {
    const Json& v = f->arr[i];
    FAIL_IF(v.arr.size() != 2 || v.arr[0].str != w.vars[i].first ||
                v.arr[1].str != w.vars[i].second,
            "var %zu is [%s, %s]", i, Printable(w.vars[i].first).c_str(),
            Printable(w.vars[i].second).c_str());
    for (int k = 0; k < 7; ++k) {
      if (v.arr[0].str == kIndexNames[k]) want_idx[k] = static_cast<int>(i);  // the last
    }
  }
  for (int k = 0; k < 7; ++k) {
    FAIL_IF(w.idx[k] != want_idx[k], "index of %s is %d, want %d", kIndexNames[k], w.idx[k],
            want_idx[k]);
  }

  CheckPrefixes(input, max_size, w, consumed, fails);
  CheckByteByByte(input, max_size, w, consumed, fails);

  // max_size exactly the block's size is fine; one byte less is too big, as soon
  // as the header is in.
  const size_t size = consumed - 4;
  const Result exact = Parse(input, input.size(), size);
  FAIL_IF(exact != w, "max_size = block size: %s", exact.Describe().c_str());
  if (size > 0) {
    const Result less = Parse(input, 4, size - 1);
    FAIL_IF(less.rc != tsgi::kParseBad || less.error == nullptr ||
                strstr(less.error, "larger than buffer-size") == nullptr,
            "max_size = block size - 1, header only: %s", less.Describe().c_str());
  }
}

void RunInvalid(const std::string& input, const Json& exp, std::vector<std::string>* fails) {
  const size_t max_size = static_cast<size_t>(exp.NumOr("max_size", kDefaultMaxSize));
  const Json* error = exp.Get("error");
  const Json* from_header = exp.Get("from_header");
  FAIL_IF(!error || error->kind != Json::kStr || !from_header, "json: no error or from_header");
  const Result w = Parse(input, input.size(), max_size);
  FAIL_IF(!w.view_error.empty(), "whole: %s", w.view_error.c_str());
  FAIL_IF(w.rc != tsgi::kParseBad || w.error == nullptr ||
              strstr(w.error, error->str.c_str()) == nullptr,
          "whole: %s, want bad: ...%s...", w.Describe().c_str(), error->str.c_str());
  const size_t decided_at = DecidedAt(input, from_header->b);
  FAIL_IF(decided_at > input.size(), "corpus: the packet is not all there (%zu > %zu bytes)",
          decided_at, input.size());
  CheckPrefixes(input, max_size, w, decided_at, fails);
  CheckByteByByte(input, max_size, w, decided_at, fails);
}

// ----------------------------------------------------------------------------
// Unit tests.

std::string U16(size_t n) {
  std::string s;
  s.push_back(static_cast<char>(n & 0xff));
  s.push_back(static_cast<char>((n >> 8) & 0xff));
  return s;
}

std::string Pair(const std::string& k, const std::string& v) {
  return U16(k.size()) + k + U16(v.size()) + v;
}

std::string Packet(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string blk;
  for (const auto& kv : pairs) blk += Pair(kv.first, kv.second);
  return std::string(1, '\0') + U16(blk.size()) + std::string(1, '\0') + blk;
}

std::string Str(StrView v) { return v.data ? std::string(v.data, v.len) : std::string(); }

UwsgiRequest g_unit;

// Parses s placed before the guard page into g_unit.
ssize_t P(const std::string& s, size_t max_size = kDefaultMaxSize, const char** error = nullptr,
          const char** buf_out = nullptr) {
  const char* buf = g_buf.Put(s.data(), s.size());
  if (buf_out != nullptr) *buf_out = buf;
  const char* e = nullptr;
  const ssize_t rc = tsgi::ParseUwsgiPacket(buf, s.size(), max_size, &g_unit, &e);
  if (error != nullptr) *error = e;
  return rc;
}

bool ErrorHas(const std::string& s, const char* what, size_t max_size = kDefaultMaxSize) {
  const char* e = nullptr;
  const ssize_t rc = P(s, max_size, &e);
  const bool ok = rc == tsgi::kParseBad && e != nullptr && strstr(e, what) != nullptr;
  if (!ok) printf("    got rc=%zd error=%s, want ...%s...\n", rc, e ? e : "(null)", what);
  return ok;
}

std::string ClPacket(const std::string& v) {
  return Packet({{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", v}});
}

uint64_t ClOf(const std::string& v) {
  if (P(ClPacket(v)) < 0) return 12345678;
  return g_unit.content_length;
}

void UnitTests() {
  using std::string;
  // The indices, filled as the pairs come, and views into the caller's buffer.
  {
    const string s = Packet({{"QUERY_STRING", "a=1"},
                             {"REQUEST_METHOD", "GET"},
                             {"CONTENT_LENGTH", "12"},
                             {"REQUEST_URI", "/p?a=1"},
                             {"PATH_INFO", "/p"},
                             {"SERVER_PROTOCOL", "HTTP/1.1"},
                             {"HTTP_HOST", "h"}}) +
                      "body";
    const char* buf = nullptr;
    CHECK(P(s, 4096, nullptr, &buf) == static_cast<ssize_t>(s.size() - 4));
    CHECK(g_unit.num_vars == 7);
    CHECK(g_unit.query_string == 0 && g_unit.request_method == 1 &&
          g_unit.content_length_var == 2 && g_unit.request_uri == 3 && g_unit.path_info == 4 &&
          g_unit.server_protocol == 5);
    CHECK(g_unit.content_length == 12);
    CHECK(g_unit.modifier1 == 0 && g_unit.modifier2 == 0);
    CHECK(g_unit.vars[0].key.data == buf + 6 && g_unit.vars[0].key.len == 12);
    CHECK(g_unit.vars[0].value.data == buf + 6 + 12 + 2 && g_unit.vars[0].value.len == 3);
    CHECK(Str(g_unit.vars[1].value) == "GET" && Str(g_unit.vars[6].key) == "HTTP_HOST");
    CHECK(Str(g_unit.vars[6].value) == "h" &&
          g_unit.vars[6].value.data + 1 == buf + s.size() - 4);
  }
  // Absent keys are -1, content_length 0; a reused struct is reset.
  {
    CHECK(P(Packet({{"REQUEST_METHOD", "GET"}})) == 4 + 2 + 14 + 2 + 3);
    CHECK(g_unit.num_vars == 1 && g_unit.request_method == 0 && g_unit.request_uri == -1 &&
          g_unit.path_info == -1 && g_unit.query_string == -1 &&
          g_unit.server_protocol == -1 && g_unit.content_length_var == -1 &&
          g_unit.content_length == 0);
  }
  // The last of a repeated key wins (CONTENT_LENGTH may not repeat).
  {
    CHECK(P(Packet({{"PATH_INFO", "/a"},
                    {"REQUEST_METHOD", "GET"},
                    {"PATH_INFO", "/b"},
                    {"REQUEST_METHOD", "HEAD"},
                    {"SERVER_PROTOCOL", "HTTP/1.0"},
                    {"SERVER_PROTOCOL", "HTTP/1.1"}})) > 0);
    CHECK(g_unit.path_info == 2 && g_unit.request_method == 3 && g_unit.server_protocol == 5);
    CHECK(Str(g_unit.vars[static_cast<size_t>(g_unit.request_method)].value) == "HEAD");
  }
  // Keys are case-sensitive and matched whole.
  {
    CHECK(P(Packet({{"REQUEST_METHOD", "GET"},
                    {"path_info", "/"},
                    {"PATH_INFOX", "/"},
                    {"REQUEST_UR", "/"},
                    {"QUERY_STRINGS", ""},
                    {"HTTP_CONTENT_LENGTH", "x"},
                    {"SERVER_PROTOCOl", "x"}})) > 0);
    CHECK(g_unit.path_info == -1 && g_unit.request_uri == -1 && g_unit.query_string == -1 &&
          g_unit.content_length_var == -1 && g_unit.server_protocol == -1);
  }
  // CONTENT_LENGTH values.
  CHECK(ClOf("") == 0);
  CHECK(ClOf("0") == 0);
  CHECK(ClOf("7") == 7);
  CHECK(ClOf("0000000000000000007") == 7);
  CHECK(ClOf("9223372036854775807") == 9223372036854775807ULL);
  CHECK(ClOf("9999999999999999999") == 9999999999999999999ULL);
  CHECK(ClOf("00000000000000000007") == 7);  // leading zeros, as nginx passes them on
  CHECK(ErrorHas(ClPacket("10000000000000000000"), "CONTENT_LENGTH is neither"));
  CHECK(ErrorHas(ClPacket("18446744073709551616"), "CONTENT_LENGTH is neither"));
  CHECK(ErrorHas(ClPacket("1e3"), "CONTENT_LENGTH is neither"));
  CHECK(ErrorHas(ClPacket("/"), "CONTENT_LENGTH is neither"));  // '0' - 1
  CHECK(ErrorHas(ClPacket(":"), "CONTENT_LENGTH is neither"));  // '9' + 1
  CHECK(ErrorHas(ClPacket("\xb5"), "CONTENT_LENGTH is neither"));
  CHECK(ErrorHas(Packet({{"CONTENT_LENGTH", "1"}, {"REQUEST_METHOD", "GET"}, {"CONTENT_LENGTH", ""}}),
                 "CONTENT_LENGTH appears twice"));
  // kMaxVars pairs are fine, one more is not.
  {
    std::vector<std::pair<string, string>> pairs{{"REQUEST_METHOD", "GET"}};
    while (pairs.size() < UwsgiRequest::kMaxVars) pairs.emplace_back("K", "");
    CHECK(P(Packet(pairs)) > 0 && g_unit.num_vars == UwsgiRequest::kMaxVars);
    pairs.emplace_back("K", "");
    CHECK(ErrorHas(Packet(pairs), "more than 256 vars"));
    // The 257th pair is refused when it starts, before its own bytes are judged.
    pairs.pop_back();
    string s = Packet(pairs);
    s += string(1, '\x00');  // a stray byte as a 257th "pair"
    s[1] = static_cast<char>((s.size() - 4) & 0xff);
    s[2] = static_cast<char>((s.size() - 4) >> 8);
    CHECK(ErrorHas(s, "more than 256 vars"));
  }
  // Short inputs; the header alone decides modifiers and size.
  {
    const string s = Packet({{"REQUEST_METHOD", "GET"}});
    for (size_t n = 0; n < 4; ++n) CHECK(P(s.substr(0, n)) == tsgi::kParseNeedMore);
    CHECK(P(s.substr(0, 4)) == tsgi::kParseNeedMore);
    CHECK(P(s.substr(0, 4), 20) == tsgi::kParseBad);  // block of 21 over max_size 20
    CHECK(P(s.substr(0, 3) + "\x01") == tsgi::kParseBad && g_unit.modifier2 == 1);
    CHECK(P("\x07" + s.substr(1, 3)) == tsgi::kParseBad && g_unit.modifier1 == 7);
    // 30 (uWSGI's "manage PATH_INFO", nginx's uwsgi_modifier1 30) is a WSGI request too.
    CHECK(P("\x1e" + s.substr(1)) > 0 && g_unit.modifier1 == 30);
    CHECK(P("\x1d" + s.substr(1, 3)) == tsgi::kParseBad && g_unit.modifier1 == 29);
    CHECK(P(s, 21) == static_cast<ssize_t>(s.size()));
    // An empty block fits max_size 0 and then lacks REQUEST_METHOD.
    CHECK(ErrorHas(string(4, '\0'), "REQUEST_METHOD is missing", 0));
    CHECK(ErrorHas(string(4, '\0') + "trailing", "REQUEST_METHOD is missing", 0));
    // A large max_size is no problem.
    CHECK(P(s, static_cast<size_t>(-1)) == static_cast<ssize_t>(s.size()));
  }
  // Errors: a null error pointer is allowed; the sentences differ from each other.
  {
    UwsgiRequest r;
    const string bad("\x01\x00\x00\x00", 4);
    const char* buf = g_buf.Put(bad.data(), bad.size());
    CHECK(tsgi::ParseUwsgiPacket(buf, bad.size(), 4096, &r, nullptr) == tsgi::kParseBad);
    const char* e1 = nullptr;
    const char* e2 = nullptr;
    P(bad, 4096, &e1);
    P(string("\x00\x00\x00\x01", 4), 4096, &e2);
    CHECK(e1 != nullptr && e2 != nullptr && strcmp(e1, e2) != 0);
    // kParseNeedMore and success leave *error alone.
    const char* untouched = "untouched";
    const char* e = untouched;
    const string ok = Packet({{"REQUEST_METHOD", "GET"}});
    buf = g_buf.Put(ok.data(), ok.size());
    CHECK(tsgi::ParseUwsgiPacket(buf, ok.size(), 4096, &r, &e) > 0 && e == untouched);
    CHECK(tsgi::ParseUwsgiPacket(buf, 2, 4096, &r, &e) == tsgi::kParseNeedMore && e == untouched);
  }
  // Key bytes: controls, space and DEL are refused; 0x21-0x7E and 0x80-0xFF pass.
  {
    CHECK(P(Packet({{"REQUEST_METHOD", "GET"}, {"!~", "v"}})) > 0);
    CHECK(ErrorHas(Packet({{"REQUEST_METHOD", "GET"}, {" A", "v"}}), "key holds a control byte"));
    CHECK(ErrorHas(Packet({{"REQUEST_METHOD", "GET"}, {"A\x7f", "v"}}), "key holds a control byte"));
    CHECK(ErrorHas(Packet({{"REQUEST_METHOD", "GET"}, {"A\x1f", "v"}}), "key holds a control byte"));
    CHECK(P(Packet({{"REQUEST_METHOD", "GET"}, {"A\x80", "v"}})) > 0);
    CHECK(P(Packet({{"REQUEST_METHOD", "GET"}, {"A\xff", "v"}})) > 0);
  }
  // A 64 KiB - 1 block with max_size 65535; the same with max_size 65534 is too big.
  {
    const string big = Packet({{"REQUEST_METHOD", "GET"}, {"X", string(65535 - 21 - 5, 'x')}});
    CHECK(big.size() == 4 + 65535);
    CHECK(P(big, 65535) == 4 + 65535 && g_unit.vars[1].value.len == 65535 - 26);
    CHECK(ErrorHas(big, "larger than buffer-size", 65534));
  }
}

}  // namespace

int main(int argc, char** argv) {
  return tsgi::test::CorpusTestMain(
      argc, argv, {"uwsgi: ", "test/uwsgi", ".bin", RunValid, RunInvalid, UnitTests});
}
