// A fuzz target for native/protocol/http_parser.cc.
//
// With libFuzzer (clang):
//   clang++ -Inative -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -DTSGI_LIBFUZZER
//     native/protocol/http_parser.cc test/native/fuzz-parser.cc -o fuzz-parser
//   ./fuzz-parser test/requests/valid test/requests/invalid
//
// Without it (g++): a small built-in driver mutates the corpus files given as
// directories on the command line and runs the target for FUZZ_SECONDS seconds
// (default 15) or until FUZZ_ITERATIONS inputs are done (default: no limit); FUZZ_SEED picks the random sequence (default 1). On a failed check
// (or a sanitizer report) the input is written to FUZZ_ARTIFACT (default
// fuzz-failure.http) and the program aborts.
//
// Each input is parsed as a request head and, when that works and says chunked,
// the rest as a chunked body; the whole input is also fed to a ChunkedDecoder
// directly. Checked: results are in range, every view lies inside its buffer,
// everything a valid head holds obeys RFC 9112's grammar, the framing and
// keep-alive facts agree with a naive reading of the fields, prefixes give
// need-more or the whole result, and a body fed in pieces gives what it gives whole.
#include "protocol/http_parser.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "support.h"

using tsgi::BodyFraming;
using tsgi::ChunkedDecoder;
using tsgi::HttpError;
using tsgi::HttpRequestHead;
using tsgi::StrView;
using tsgi::test::GuardBuffer;
using tsgi::test::Rng;

namespace {

// Guarded buffers: data placed to end right before a PROT_NONE page.
GuardBuffer g_head_buf(1 << 16), g_piece_a(1 << 16), g_piece_b(1 << 16);

// ----------------------------------------------------------------------------
// Naive reference predicates.

bool IsTchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

std::string Lower(StrView v) {
  std::string s(v.data, v.len);
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return s;
}

std::string Trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) --b;
  return s.substr(a, b - a);
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = s.find(',', start);
    out.push_back(Trim(s.substr(start, comma == std::string::npos ? std::string::npos
                                                                   : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool Inside(StrView v, const char* lo, const char* hi) {
  if (v.len == 0) return v.data == nullptr || (v.data >= lo && v.data <= hi);
  return v.data >= lo && v.data <= hi && v.len <= static_cast<size_t>(hi - v.data);
}

// Checks everything a successfully parsed head says against the raw bytes.
void CheckHead(const HttpRequestHead& h, const char* buf, size_t rc) {
  const char* hi = buf + rc;
  FCHECK(rc >= 4 && memcmp(hi - 4, "\r\n\r\n", 4) == 0, rc);
  FCHECK(Inside(h.method, buf, hi) && h.method.len > 0, 0);
  for (size_t i = 0; i < h.method.len; ++i)
    FCHECK(IsTchar(static_cast<unsigned char>(h.method.data[i])), i);
  FCHECK(Inside(h.target, buf, hi) && h.target.len > 0, 0);
  for (size_t i = 0; i < h.target.len; ++i) {
    const unsigned char c = static_cast<unsigned char>(h.target.data[i]);
    FCHECK(c > 0x20 && c != 0x7f, c);
  }
  FCHECK(h.minor_version == 0 || h.minor_version == 1, h.minor_version);
  FCHECK(h.num_headers <= HttpRequestHead::kMaxHeaders, h.num_headers);

  int hosts = 0;
  bool cl_seen = false, te_seen = false, close = false, ka = false, expect = false;
  std::vector<std::string> codings;
  for (size_t i = 0; i < h.num_headers; ++i) {
    const auto& f = h.headers[i];
    FCHECK(Inside(f.name, buf, hi) && f.name.len > 0, i);
    FCHECK(Inside(f.value, buf, hi), i);
    FCHECK(f.name.data[f.name.len] == ':', i);
    for (size_t j = 0; j < f.name.len; ++j)
      FCHECK(IsTchar(static_cast<unsigned char>(f.name.data[j])), j);
    for (size_t j = 0; j < f.value.len; ++j) {
      const unsigned char c = static_cast<unsigned char>(f.value.data[j]);
      FCHECK(c == '\t' || c >= 0x20, c);
      FCHECK(c != 0x7f, c);
    }
    if (f.value.len > 0) {
      FCHECK(f.value.data[0] != ' ' && f.value.data[0] != '\t', i);
      const char last = f.value.data[f.value.len - 1];
      FCHECK(last != ' ' && last != '\t', i);
    }
    const std::string name = Lower(f.name);
    const std::string value(f.value.data, f.value.len);
    if (name == "host") {
      ++hosts;
      FCHECK(h.host.data == f.value.data && h.host.len == f.value.len, i);
    } else if (name == "content-length") {
      cl_seen = true;
      for (const auto& e : SplitList(value)) {
        FCHECK(!e.empty(), e.size());
        for (char c : e) FCHECK(c >= '0' && c <= '9', c);
        const uint64_t v = strtoull(e.c_str(), nullptr, 10);
        FCHECK(v == h.content_length, v);
        FCHECK(v <= 0x7fffffffffffffffULL, v);
      }
    } else if (name == "transfer-encoding") {
      te_seen = true;
      for (const auto& e : SplitList(value)) codings.push_back(Trim(Lower(StrView{e.data(), e.size()})));
    } else if (name == "connection") {
      for (const auto& e : SplitList(Lower(f.value))) {
        if (e == "close") close = true;
        if (e == "keep-alive") ka = true;
      }
    } else if (name == "expect") {
      if (Lower(f.value) == "100-continue") expect = true;
    }
  }
  FCHECK(hosts <= 1, hosts);
  FCHECK(h.has_host == (hosts == 1), hosts);
  if (h.minor_version == 1) FCHECK(h.has_host, 0);
  FCHECK(h.expect_continue == expect, 0);
  FCHECK(h.keep_alive == (h.minor_version == 1 ? !close : (ka && !close)), 0);
  FCHECK(!(cl_seen && te_seen), 0);
  if (te_seen) {
    FCHECK(h.framing == BodyFraming::kChunked && h.minor_version == 1, 0);
    FCHECK(codings.size() == 1 && codings[0] == "chunked", codings.size());
  } else if (cl_seen) {
    FCHECK(h.framing == BodyFraming::kContentLength, 0);
  } else {
    FCHECK(h.framing == BodyFraming::kNone && h.content_length == 0, 0);
  }

  // The target's parts, as the parser split it.
  const StrView path = h.path, query = h.query, authority = h.authority;
  const char* tlo = h.target.data;
  const char* thi = tlo + h.target.len;
  FCHECK(Inside(path, tlo, thi) && Inside(query, tlo, thi) && Inside(authority, tlo, thi), 0);
  FCHECK(path.len + query.len + authority.len <= h.target.len, 0);
  FCHECK(std::memchr(h.target.data, '#', h.target.len) == nullptr, 0);
  FCHECK(std::memchr(authority.data ? authority.data : "", '@', authority.len) == nullptr, 0);
  std::string decoded;
  tsgi::PercentDecode(path.data, path.len, &decoded);
  FCHECK(decoded.size() <= path.len, decoded.size());
}

struct HeadCopy {
  ssize_t rc;
  int status;
  HttpError error;  // RefParse judges statuses only: kNone
  std::string method, target, host;
  std::vector<std::string> fields;
  int minor;
  BodyFraming framing;
  uint64_t cl;
  bool ka, expect, has_host;

  bool operator==(const HeadCopy& o) const {
    if (rc != o.rc) return false;
    if (rc == tsgi::kParseBad) return status == o.status && error == o.error;
    if (rc < 0) return true;
    return method == o.method && target == o.target && host == o.host && fields == o.fields &&
           minor == o.minor && framing == o.framing && cl == o.cl && ka == o.ka &&
           expect == o.expect && has_host == o.has_host;
  }
};

HttpRequestHead g_head;

HeadCopy Parse(const uint8_t* data, size_t n, size_t max_head, bool check) {
  const char* buf = g_head_buf.Put(data, n);
  HeadCopy c{};
  c.status = -1;
  c.error = static_cast<HttpError>(0xee);
  c.rc = tsgi::ParseRequestHead(buf, n, max_head, &g_head, &c.error);
  if (c.rc == tsgi::kParseNeedMore) {
    FCHECK(n < max_head, n);
    return c;
  }
  if (c.rc == tsgi::kParseBad) {
    FCHECK(c.error != HttpError::kNone && c.error < HttpError::kCount,
           static_cast<size_t>(c.error));
    c.status = tsgi::DescribeHttpError(c.error).status;
    FCHECK(c.status == 400 || c.status == 431 || c.status == 501 || c.status == 505, c.status);
    return c;
  }
  FCHECK(c.error == HttpError::kNone, static_cast<size_t>(c.error));
  FCHECK(c.rc > 0 && static_cast<size_t>(c.rc) <= n && static_cast<size_t>(c.rc) <= max_head,
         c.rc);
  const HttpRequestHead& h = g_head;
  if (check) CheckHead(h, buf, static_cast<size_t>(c.rc));
  c.method.assign(h.method.data, h.method.len);
  c.target.assign(h.target.data, h.target.len);
  if (h.has_host) c.host.assign(h.host.data, h.host.len);
  for (size_t i = 0; i < h.num_headers; ++i) {
    c.fields.emplace_back(h.headers[i].name.data, h.headers[i].name.len);
    c.fields.emplace_back(h.headers[i].value.data, h.headers[i].value.len);
  }
  c.minor = h.minor_version;
  c.framing = h.framing;
  c.cl = h.content_length;
  c.ka = h.keep_alive;
  c.expect = h.expect_continue;
  c.has_host = h.has_host;
  return c;
}

struct BodyCopy {
  ChunkedDecoder::Result r = ChunkedDecoder::Result::kNeedMore;
  size_t consumed = 0;
  std::string data;
  bool operator==(const BodyCopy& o) const {
    if (r != o.r) return false;
    if (r == ChunkedDecoder::Result::kBad) return true;
    return consumed == o.consumed && data == o.data;
  }
};

struct Sink {
  std::string* out;
  const char* lo;
  const char* hi;
};

void OnData(void* ctx, const char* data, size_t len) {
  const Sink* s = static_cast<const Sink*>(ctx);
  FCHECK(len > 0 && data >= s->lo && data <= s->hi &&
             len <= static_cast<size_t>(s->hi - data), len);
  s->out->append(data, len);
}

// Decodes body[0..n) fed in pieces ending at the given cut points.
BodyCopy Decode(const uint8_t* body, size_t n, const std::vector<size_t>& cuts) {
  ChunkedDecoder d;
  BodyCopy b;
  size_t off = 0;
  int which = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t stop = i < cuts.size() ? cuts[i] : n;
    if (stop < off) continue;
    const size_t len = stop - off;
    GuardBuffer& g = (which++ & 1) ? g_piece_b : g_piece_a;
    const char* p = g.Put(body + off, len);
    Sink sink{&b.data, p, p + len};
    size_t consumed = 0;
    b.r = d.Feed(p, len, &consumed, OnData, &sink);
    if (b.r == ChunkedDecoder::Result::kBad) return b;
    if (b.r == ChunkedDecoder::Result::kDone) {
      FCHECK(consumed <= len, consumed);
      b.consumed += consumed;
      FCHECK(d.body_bytes() == b.data.size(), d.body_bytes());
      return b;
    }
    FCHECK(consumed == len, consumed);
    b.consumed += len;
    off = stop;
  }
  FCHECK(d.body_bytes() == b.data.size(), d.body_bytes());
  return b;
}

// ----------------------------------------------------------------------------
// Naive reference parsers for differential checks: they cut the whole input into
// lines first and then judge each complete line as a string, which is a different
// way to get to the same verdicts.

bool RefFieldByte(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

bool AllTchar(const std::string& s) {
  for (char c : s) {
    if (!IsTchar(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}

// A request line (without CRLF); complete=false accepts any prefix of a valid one.
bool RefRequestLine(const std::string& l, bool complete) {
  size_t i = 0;
  while (i < l.size() && IsTchar(static_cast<unsigned char>(l[i]))) ++i;
  if (i == l.size()) return !complete;
  if (i == 0 || l[i] != ' ') return false;
  const size_t t = ++i;
  while (i < l.size() && static_cast<unsigned char>(l[i]) > 0x20 &&
         static_cast<unsigned char>(l[i]) != 0x7f) {
    ++i;
  }
  if (i == l.size()) return !complete;
  if (i == t || l[i] != ' ') return false;
  ++i;
  static const char kPat[] = "HTTP/d.d";
  size_t j = 0;
  for (; i < l.size(); ++i, ++j) {
    if (j >= 8) return false;
    const char c = l[i];
    if (kPat[j] == 'd' ? !(c >= '0' && c <= '9') : c != kPat[j]) return false;
  }
  return !complete || j == 8;
}

// A field line (without CRLF); complete=false accepts any prefix of a valid one.
bool RefFieldLine(const std::string& l, bool complete) {
  size_t i = 0;
  while (i < l.size() && IsTchar(static_cast<unsigned char>(l[i]))) ++i;
  if (i == l.size()) return !complete;
  if (i == 0 || l[i] != ':') return false;
  for (++i; i < l.size(); ++i) {
    if (!RefFieldByte(static_cast<unsigned char>(l[i]))) return false;
  }
  return true;
}

bool RefCl(const std::string& v, uint64_t* out) {
  bool have = false;
  for (const auto& e : SplitList(v)) {
    if (e.empty()) return false;
    for (char c : e) {
      if (c < '0' || c > '9') return false;
    }
    const size_t nz = e.find_first_not_of('0');
    const std::string digits = nz == std::string::npos ? "0" : e.substr(nz);
    if (digits.size() > 19 || (digits.size() == 19 && digits > "9223372036854775807"))
      return false;
    const uint64_t x = strtoull(digits.c_str(), nullptr, 10);
    if (have && x != *out) return false;
    *out = x;
    have = true;
  }
  return true;
}

// host [":" port] as RFC 3986 §3.2 has it, by other means than the parser's: the
// host is what comes before the last ":" after any "]". 0 when fine, else 400.
bool RefAuthority(const std::string& a, bool need_port) {
  if (a.find('@') != std::string::npos) return false;
  const size_t bracket = a.rfind(']');
  const size_t colon = a.rfind(':');
  const bool has_port = colon != std::string::npos &&
                        (bracket == std::string::npos || colon > bracket);
  const std::string host = has_port ? a.substr(0, colon) : a;
  const std::string port = has_port ? a.substr(colon + 1) : "";
  if (need_port && port.empty()) return false;
  if (port.find_first_not_of("0123456789") != std::string::npos) return false;
  if (host.empty()) return false;
  static const std::string kHex = "0123456789abcdefABCDEF";
  static const std::string kSub = "-._~!$&'()*+,;=";
  const auto alnum = [](char c) { return isalnum(static_cast<unsigned char>(c)) != 0; };
  if (host[0] == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    const std::string in = host.substr(1, host.size() - 2);
    if (in[0] == 'v' || in[0] == 'V') {
      const size_t dot = in.find('.');
      if (dot == std::string::npos || dot < 2 || dot + 1 == in.size()) return false;
      for (size_t i = 1; i < dot; ++i) if (kHex.find(in[i]) == std::string::npos) return false;
      for (size_t i = dot + 1; i < in.size(); ++i) {
        if (!alnum(in[i]) && kSub.find(in[i]) == std::string::npos && in[i] != ':') return false;
      }
      return true;
    }
    return in.find_first_not_of(kHex + ":.") == std::string::npos;
  }
  for (size_t i = 0; i < host.size(); ++i) {
    if (host[i] == '%') {
      if (i + 2 >= host.size() || kHex.find(host[i + 1]) == std::string::npos ||
          kHex.find(host[i + 2]) == std::string::npos) {
        return false;
      }
      i += 2;
    } else if (!alnum(host[i]) && kSub.find(host[i]) == std::string::npos) {
      return false;
    }
  }
  return true;
}

// The status for a request-target and its method (RFC 9112 §3.2): 0 when accepted.
int RefTarget(const std::string& method, const std::string& t) {
  if (method == "CONNECT") return RefAuthority(t, true) ? 501 : 400;
  if (t == "*") return method == "OPTIONS" ? 0 : 400;
  if (t.find('#') != std::string::npos) return 400;
  if (t[0] == '/') return 0;
  const size_t sep = t.find("://");
  if (sep == std::string::npos || sep == 0 || !isalpha(static_cast<unsigned char>(t[0]))) return 400;
  const std::string scheme = Lower(StrView{t.data(), sep});
  if (scheme.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789+-.") != std::string::npos)
    return 400;
  size_t end = t.find_first_of("/?", sep + 3);
  if (end == std::string::npos) end = t.size();
  if (!RefAuthority(t.substr(sep + 3, end - sep - 3), false)) return 400;
  return scheme == "http" || scheme == "https" ? 0 : 400;
}

// Sets *skip when the input has something the reference does not model
// (Transfer-Encoding parameters).
HeadCopy RefParse(const uint8_t* d, size_t n, size_t max_head, bool* skip) {
  HeadCopy r{};
  *skip = false;
  const std::string t(reinterpret_cast<const char*>(d), n < max_head ? n : max_head);
  const auto bad = [&](int status) {
    r.rc = tsgi::kParseBad;
    r.status = status;
    return r;
  };
  const auto need_more = [&]() {
    if (n >= max_head) return bad(431);
    r.rc = tsgi::kParseNeedMore;
    return r;
  };
  size_t pos = 0;
  while (pos < t.size() && t[pos] == '\r') {
    if (pos + 1 == t.size()) return need_more();
    if (t[pos + 1] != '\n') return bad(400);
    pos += 2;
  }
  if (pos == t.size()) return need_more();
  bool first = true;
  size_t count = 0;
  bool cl_seen = false, close = false, ka = false;
  std::vector<std::string> codings;
  for (;;) {
    size_t e = pos;
    while (e < t.size() && t[e] != '\r' && t[e] != '\n') ++e;
    const std::string l = t.substr(pos, e - pos);
    if (e == t.size() || (t[e] == '\r' && e + 1 == t.size())) {
      const bool ok = first ? RefRequestLine(l, e < t.size())
                            : (l.empty() || RefFieldLine(l, e < t.size()));
      return ok ? need_more() : bad(400);
    }
    if (t[e] == '\n' || t[e + 1] != '\n') return bad(400);
    pos = e + 2;
    if (first) {
      first = false;
      if (!RefRequestLine(l, true)) return bad(400);
      const size_t sp1 = l.find(' ');
      const size_t sp2 = l.find(' ', sp1 + 1);
      r.method = l.substr(0, sp1);
      r.target = l.substr(sp1 + 1, sp2 - sp1 - 1);
      if (l[sp2 + 6] != '1' || (l[sp2 + 8] != '0' && l[sp2 + 8] != '1')) return bad(505);
      r.minor = l[sp2 + 8] - '0';
      const int target_status = RefTarget(r.method, r.target);
      if (target_status != 0) return bad(target_status);
      continue;
    }
    if (l.empty()) break;
    if (!RefFieldLine(l, true)) return bad(400);
    if (count++ == HttpRequestHead::kMaxHeaders) return bad(431);
    const size_t colon = l.find(':');
    const std::string name = l.substr(0, colon);
    const std::string value = Trim(l.substr(colon + 1));
    r.fields.push_back(name);
    r.fields.push_back(value);
    const std::string lname = Lower(StrView{name.data(), name.size()});
    const std::string lvalue = Lower(StrView{value.data(), value.size()});
    if (lname == "host") {
      if (r.has_host) return bad(400);
      r.has_host = true;
      r.host = value;
    } else if (lname == "content-length") {
      uint64_t v = 0;
      if (!RefCl(value, &v) || (cl_seen && v != r.cl)) return bad(400);
      cl_seen = true;
      r.cl = v;
    } else if (lname == "transfer-encoding") {
      if (value.find_first_of(";\"") != std::string::npos) *skip = true;
      for (const auto& c : SplitList(lvalue)) {
        if (!AllTchar(c)) return bad(400);
        codings.push_back(c);
      }
    } else if (lname == "connection") {
      for (const auto& c : SplitList(lvalue)) {
        if (c == "close") close = true;
        if (c == "keep-alive") ka = true;
      }
    } else if (lname == "expect") {
      if (lvalue == "100-continue") r.expect = true;
    }
  }
  if (r.minor == 1 && !r.has_host) return bad(400);
  r.framing = cl_seen ? BodyFraming::kContentLength : BodyFraming::kNone;
  if (!codings.empty()) {
    if (r.minor == 0 || cl_seen) return bad(400);
    size_t chunked = 0;
    for (const auto& c : codings) chunked += c == "chunked";
    if (codings.back() != "chunked" || chunked != 1) return bad(400);
    if (codings.size() > 1) return bad(501);
    r.framing = BodyFraming::kChunked;
    r.cl = 0;
  }
  r.ka = r.minor == 1 ? !close : (ka && !close);
  r.rc = static_cast<ssize_t>(pos);
  return r;
}

// A complete chunk-size line (without CRLF), its length not considered.
bool RefChunkLine(const std::string& l, uint64_t* size) {
  size_t i = 0;
  uint64_t v = 0;
  while (i < l.size() && isxdigit(static_cast<unsigned char>(l[i]))) {
    const unsigned char c = static_cast<unsigned char>(l[i]);
    const unsigned dv = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    if (v > 0x7ffffffffffffffULL) return false;
    v = v * 16 + dv;
    ++i;
  }
  if (i == 0) return false;
  *size = v;
  const auto ws = [&]() {
    while (i < l.size() && (l[i] == ' ' || l[i] == '\t')) ++i;
  };
  const auto token = [&]() {
    const size_t s = i;
    while (i < l.size() && IsTchar(static_cast<unsigned char>(l[i]))) ++i;
    return i > s;
  };
  while (i < l.size()) {
    ws();
    if (i == l.size() || l[i] != ';') return false;
    ++i;
    ws();
    if (!token()) return false;
    const size_t save = i;
    ws();
    if (i < l.size() && l[i] == '=') {
      ++i;
      ws();
      if (i < l.size() && l[i] == '"') {
        ++i;
        for (;;) {
          if (i == l.size()) return false;
          const unsigned char c = static_cast<unsigned char>(l[i++]);
          if (c == '"') break;
          if (c == '\\') {
            if (i == l.size() || !RefFieldByte(static_cast<unsigned char>(l[i]))) return false;
            ++i;
          } else if (!RefFieldByte(c) || c == 0x7f) {
            return false;
          }
        }
      } else if (!token()) {
        return false;
      }
    } else {
      i = save;
    }
  }
  return true;
}

bool RefChunkLinePrefix(const std::string& l) {
  static const char* const kCompletions[] = {"", "0", "x", ";x", "=x", "\"", "x\""};
  uint64_t size;
  for (const char* c : kCompletions) {
    if (RefChunkLine(l + c, &size)) return true;
  }
  return false;
}

// Decodes a whole chunked body. *either is set when the answer may be kNeedMore or
// kBad (an incomplete line the reference cannot judge).
BodyCopy RefDecode(const uint8_t* d, size_t n, bool* either) {
  BodyCopy b;
  *either = false;
  const std::string t(reinterpret_cast<const char*>(d), n);
  const auto bad = [&]() {
    b.r = ChunkedDecoder::Result::kBad;
    return b;
  };
  const auto need_more = [&]() {
    b.r = ChunkedDecoder::Result::kNeedMore;
    b.consumed = n;
    return b;
  };
  size_t pos = 0;
  bool trailers = false;
  for (;;) {
    size_t e = pos;
    while (e < t.size() && t[e] != '\r' && t[e] != '\n') ++e;
    const std::string l = t.substr(pos, e - pos);
    if (l.size() > ChunkedDecoder::kMaxLine) return bad();
    if (e == t.size() || (t[e] == '\r' && e + 1 == t.size())) {
      const bool complete = e < t.size();
      bool ok;
      if (trailers) {
        ok = l.empty() || RefFieldLine(l, complete);
      } else {
        uint64_t size;
        ok = complete ? RefChunkLine(l, &size) : RefChunkLinePrefix(l);
      }
      return ok ? need_more() : bad();
    }
    if (t[e] == '\n' || t[e + 1] != '\n') return bad();
    pos = e + 2;
    if (trailers) {
      if (l.empty()) {
        b.r = ChunkedDecoder::Result::kDone;
        b.consumed = pos;
        return b;
      }
      if (!RefFieldLine(l, true)) return bad();
      continue;
    }
    uint64_t size;
    if (!RefChunkLine(l, &size)) return bad();
    if (size == 0) {
      trailers = true;
      continue;
    }
    if (t.size() - pos <= size) {
      b.data += t.substr(pos);
      return need_more();
    }
    b.data += t.substr(pos, static_cast<size_t>(size));
    pos += static_cast<size_t>(size);
    if (t[pos] != '\r') return bad();
    if (pos + 1 == t.size()) return need_more();
    if (t[pos + 1] != '\n') return bad();
    pos += 2;
  }
}

// Checks that body[0..n) decodes the same whole, in two pieces and byte by byte.
void CheckBody(const uint8_t* body, size_t n, uint64_t seed) {
  const BodyCopy whole = Decode(body, n, {});
  bool either = false;
  const BodyCopy ref = RefDecode(body, n, &either);
  if (either) {
    FCHECK(whole.r != ChunkedDecoder::Result::kDone && ref.r != ChunkedDecoder::Result::kDone,
           0);
  } else {
    FCHECK(whole == ref, static_cast<size_t>(whole.r) * 10 + static_cast<size_t>(ref.r));
  }
  if (whole.r == ChunkedDecoder::Result::kDone) FCHECK(whole.consumed <= n, whole.consumed);
  if (whole.r == ChunkedDecoder::Result::kNeedMore) FCHECK(whole.consumed == n, whole.consumed);
  if (n < 2) return;
  for (int i = 0; i < 4; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    const size_t k = 1 + static_cast<size_t>((seed >> 33) % (n - 1));
    FCHECK(Decode(body, n, {k}) == whole, k);
  }
  if (n <= 300) {
    std::vector<size_t> cuts;
    for (size_t k = 1; k < n; ++k) cuts.push_back(k);
    FCHECK(Decode(body, n, cuts) == whole, n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tsgi::test::BeginInput(data, size, "fuzz-failure.http");
  const uint64_t seed = tsgi::test::Hash(data, size);
  const size_t max_heads[2] = {8192, size / 2 + 1};
  for (size_t max_head : max_heads) {
    const HeadCopy whole = Parse(data, size, max_head, true);
    bool skip = false;
    const HeadCopy ref = RefParse(data, size, max_head, &skip);
    if (!skip) {
      // The reference judges statuses, not reasons.
      const bool same = whole.rc == tsgi::kParseBad
                            ? ref.rc == tsgi::kParseBad && whole.status == ref.status
                            : whole == ref;
      FCHECK(same, whole.rc == tsgi::kParseBad ? static_cast<size_t>(whole.status)
                                               : static_cast<size_t>(whole.rc));
    }
    // Prefixes: need-more, or the whole result.
    size_t ks[10];
    size_t nk = 0;
    uint64_t s = seed ^ max_head;
    for (int i = 0; i < 6 && size > 0; ++i) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      ks[nk++] = static_cast<size_t>((s >> 33) % size);
    }
    if (whole.rc > 0) {
      ks[nk++] = static_cast<size_t>(whole.rc) - 1;
      ks[nk++] = static_cast<size_t>(whole.rc);
    }
    for (size_t i = 0; i < nk; ++i) {
      const size_t k = ks[i];
      if (k > size) continue;
      const HeadCopy p = Parse(data, k, max_head, false);
      if (p.rc == tsgi::kParseNeedMore) {
        FCHECK(whole.rc < 0 || k < static_cast<size_t>(whole.rc), k);
      } else {
        FCHECK(p == whole, k);
      }
    }
    if (whole.rc > 0 && whole.framing == BodyFraming::kChunked) {
      CheckBody(data + whole.rc, size - static_cast<size_t>(whole.rc), seed);
    }
  }
  // The decoder on its own, on everything.
  CheckBody(data, size, seed);
  tsgi::test::EndInput();
  return 0;
}

#ifndef TSGI_LIBFUZZER
// ----------------------------------------------------------------------------
// The standalone driver.

namespace {

const char kInteresting[] = "\r\n \t:;=\",\\0019afAFxX-+/?*.H\x7f\x80\xff";
const char* const kDict[] = {
    "\r\n", "\r\n\r\n", "\n", "\r", " ", "\t", ",", ", ", ";", "=", "\"",
    "Transfer-Encoding: chunked\r\n", "Content-Length: 5\r\n", "Content-Length: 0\r\n",
    "Host: x\r\n", "Connection: close\r\n", "Connection: keep-alive\r\n",
    "Expect: 100-continue\r\n", "chunked", "gzip, ", "CHUNKED", "HTTP/1.0", "HTTP/1.1",
    "HTTP/2.0", "0\r\n\r\n", "5\r\nhello\r\n", ";a=\"b c\"", ";a=b", "ffffffffffffffff",
    "7fffffffffffffff", "0x", "X-A: b\r\n", " folded\r\n", "GET / HTTP/1.1\r\n",
    "http://h:1/p?q", "*", "%2", "%41", "100-continue", "close", "keep-alive",
    "#", "@", "[::1]", "[v1.x]", "https://", "CONNECT ", "OPTIONS ", "h:443",
};

// Mutations 2, 4 and 5 of tsgi::test::MutateBytes.
void OwnMutation(size_t which, size_t pos, std::string* str, Rng* r) {
  std::string& s = *str;
  switch (which) {
    case 2:  // insert an interesting byte
      s.insert(pos, 1, kInteresting[r->Below(sizeof kInteresting - 1)]);
      break;
    case 4: {  // duplicate a range
      if (s.empty()) break;
      const size_t a = r->Below(s.size());
      const std::string piece = s.substr(a, 1 + r->Below(32));
      s.insert(pos, piece);
      break;
    }
    case 5:  // insert a dictionary word
      s.insert(pos, kDict[r->Below(sizeof kDict / sizeof kDict[0])]);
      break;
  }
}

std::string MutateSeed(std::string s, const std::vector<std::string>& seeds, Rng* r) {
  // Keep the big seeds from eating the time budget.
  if (s.size() > 2048 && r->Below(8) != 0) s.resize(r->Below(2048));
  s = tsgi::test::MutateBytes(s, seeds, kInteresting, sizeof kInteresting - 1, OwnMutation, r);
  if (s.size() > 70000) s.resize(70000);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  return tsgi::test::FuzzMain(argc, argv, {"fuzz", ".http", 15, MutateSeed});
}
#endif  // TSGI_LIBFUZZER
