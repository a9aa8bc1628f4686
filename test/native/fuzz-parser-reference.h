// fuzz-parser.cc's naive reference parsers. Included by fuzz-parser.cc alone, after
// fuzz-parser-copies.h.
#ifndef TSGI_TEST_NATIVE_FUZZ_PARSER_REFERENCE_H_
#define TSGI_TEST_NATIVE_FUZZ_PARSER_REFERENCE_H_

namespace {

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


}  // namespace

#endif  // TSGI_TEST_NATIVE_FUZZ_PARSER_REFERENCE_H_
