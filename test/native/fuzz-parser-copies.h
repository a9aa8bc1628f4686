// fuzz-parser.cc's checks of what the parser says against the raw bytes, and its
// copies of results (heads, decoded bodies) to compare. Included by fuzz-parser.cc
// alone, after its using-declarations.
#ifndef TSGI_TEST_NATIVE_FUZZ_PARSER_COPIES_H_
#define TSGI_TEST_NATIVE_FUZZ_PARSER_COPIES_H_

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
  bool conn_upgrade = false, upgrade_field = false;
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
        if (e == "upgrade") conn_upgrade = true;
      }
    } else if (name == "upgrade") {
      if (f.value.len > 0) upgrade_field = true;
    } else if (name == "expect") {
      if (Lower(f.value) == "100-continue") expect = true;
    }
  }
  FCHECK(hosts <= 1, hosts);
  FCHECK(h.has_host == (hosts == 1), hosts);
  if (h.minor_version == 1) FCHECK(h.has_host, 0);
  FCHECK(h.expect_continue == expect, 0);
  FCHECK(h.keep_alive == (h.minor_version == 1 ? !close : (ka && !close)), 0);
  FCHECK(h.upgrade == (conn_upgrade && upgrade_field && h.minor_version == 1), 0);
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


}  // namespace

#endif  // TSGI_TEST_NATIVE_FUZZ_PARSER_COPIES_H_
