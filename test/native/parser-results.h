// parser-test.cc's parsing with results copied out (heads, decoded bodies), so that
// a whole parse and a parse in pieces can be compared. Included by parser-test.cc
// alone, after its using-declarations.
#ifndef TSGI_TEST_NATIVE_PARSER_RESULTS_H_
#define TSGI_TEST_NATIVE_PARSER_RESULTS_H_

namespace {

// CR and LF by name: the requests are full of them.
std::string Printable(const std::string& s, size_t max = 200) {
  return tsgi::test::Printable(s, max, true);
}

// ----------------------------------------------------------------------------
// Parsing with results copied out, so that results can be compared.

struct HeadResult {
  ssize_t rc = 0;
  int status = 0;
  HttpError error = HttpError::kNone;
  std::string method, target;
  int minor_version = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;
  bool keep_alive = false;
  bool expect_continue = false;
  bool upgrade = false;
  bool has_host = false;
  std::string host;
  std::string path, query, authority;
  bool has_query = false;
  std::string view_error;  // a view outside the head, if any

  bool operator==(const HeadResult& o) const {
    if (rc != o.rc) return false;
    if (rc == tsgi::kParseBad) return error == o.error;
    if (rc == tsgi::kParseNeedMore) return true;
    return method == o.method && target == o.target && minor_version == o.minor_version &&
           headers == o.headers && framing == o.framing &&
           content_length == o.content_length && keep_alive == o.keep_alive &&
           expect_continue == o.expect_continue && upgrade == o.upgrade && has_host == o.has_host && host == o.host &&
           path == o.path && query == o.query && has_query == o.has_query &&
           authority == o.authority;
  }
  bool operator!=(const HeadResult& o) const { return !(*this == o); }

  std::string Describe() const {
    std::ostringstream ss;
    if (rc == tsgi::kParseNeedMore) return "need-more";
    if (rc == tsgi::kParseBad) {
      ss << "bad " << status << " (" << tsgi::DescribeHttpError(error).reason << ")";
      return ss.str();
    }
    ss << "ok consumed=" << rc << " method=" << Printable(method)
       << " target=" << Printable(target, 60) << " minor=" << minor_version
       << " headers=" << headers.size() << " framing=" << static_cast<int>(framing)
       << " cl=" << content_length << " keep_alive=" << keep_alive
       << " expect=" << expect_continue << " upgrade=" << upgrade << " host=" << (has_host ? Printable(host) : "(none)")
       << " authority=" << Printable(authority);
    return ss.str();
  }
};

GuardBuffer g_head_buf(1 << 16);
GuardBuffer g_piece_a(1 << 16);
GuardBuffer g_piece_b(1 << 16);
HttpRequestHead g_head;

bool ViewInside(StrView v, const char* lo, const char* hi) {
  if (v.len == 0) return v.data == nullptr || (v.data >= lo && v.data <= hi);
  return v.data >= lo && v.data + v.len <= hi;
}

HeadResult ParseHead(const std::string& input, size_t n, size_t max_head) {
  const char* buf = g_head_buf.Put(input.data(), n);
  HeadResult r;
  r.error = static_cast<HttpError>(0xee);
  r.rc = tsgi::ParseRequestHead(buf, n, max_head, &g_head, &r.error);
  if (r.rc < 0) {
    if (r.rc != tsgi::kParseBad && r.rc != tsgi::kParseNeedMore) r.view_error = "bad rc";
    if (r.rc == tsgi::kParseBad) {
      r.status = tsgi::DescribeHttpError(r.error).status;
      if (r.error == HttpError::kNone || r.error >= HttpError::kCount ||
          (r.status != 400 && r.status != 431 && r.status != 501 && r.status != 505)) {
        r.view_error = "bad error code";
      }
    }
    return r;
  }
  if (r.error != HttpError::kNone) r.view_error = "an error code on success";
  if (static_cast<size_t>(r.rc) > n || static_cast<size_t>(r.rc) > max_head) {
    r.view_error = "consumed beyond len or max_head";
    return r;
  }
  const char* hi = buf + r.rc;
  const HttpRequestHead& h = g_head;
  const char* tlo = h.target.data;
  const char* thi = tlo + h.target.len;
  if (!ViewInside(h.method, buf, hi) || !ViewInside(h.target, buf, hi) ||
      (h.has_host && !ViewInside(h.host, buf, hi)) || h.num_headers > h.kMaxHeaders ||
      !ViewInside(h.path, tlo, thi) || !ViewInside(h.query, tlo, thi) ||
      !ViewInside(h.authority, tlo, thi)) {
    r.view_error = "view outside the head";
    return r;
  }
  r.method.assign(h.method.data, h.method.len);
  r.target.assign(h.target.data, h.target.len);
  r.minor_version = h.minor_version;
  for (size_t i = 0; i < h.num_headers; ++i) {
    const auto& f = h.headers[i];
    if (!ViewInside(f.name, buf, hi) || !ViewInside(f.value, buf, hi)) {
      r.view_error = "header view outside the head";
      return r;
    }
    r.headers.emplace_back(std::string(f.name.data, f.name.len),
                           std::string(f.value.data, f.value.len));
  }
  r.framing = h.framing;
  r.content_length = h.content_length;
  r.keep_alive = h.keep_alive;
  r.expect_continue = h.expect_continue;
  r.upgrade = h.upgrade;
  r.has_host = h.has_host;
  if (h.has_host) r.host.assign(h.host.data, h.host.len);
  r.path.assign(h.path.data, h.path.len);
  r.query.assign(h.query.data, h.query.len);
  r.has_query = h.query.data != nullptr;
  r.authority.assign(h.authority.data, h.authority.len);
  return r;
}

struct BodyResult {
  ChunkedDecoder::Result result = ChunkedDecoder::Result::kNeedMore;
  size_t consumed = 0;
  std::string data;
  uint64_t body_bytes = 0;
  HttpError error_code = HttpError::kNone;
  std::string error;

  bool operator==(const BodyResult& o) const {
    if (result != o.result) return false;
    if (result == ChunkedDecoder::Result::kBad) return error_code == o.error_code;
    return consumed == o.consumed && data == o.data && body_bytes == o.body_bytes;
  }
  std::string Describe() const {
    std::ostringstream ss;
    ss << (result == ChunkedDecoder::Result::kDone ? "done"
           : result == ChunkedDecoder::Result::kBad ? "bad"
                                                     : "need-more")
       << " consumed=" << consumed << " data=" << data.size() << "B body_bytes=" << body_bytes
       << " (" << tsgi::DescribeHttpError(error_code).reason << ")";
    if (!error.empty()) ss << " error=" << error;
    return ss.str();
  }
};

struct Sink {
  std::string* out;
  const char* lo;
  const char* hi;
  bool outside = false;
};

void OnData(void* ctx, const char* data, size_t len) {
  Sink* s = static_cast<Sink*>(ctx);
  if (len == 0 || data < s->lo || data + len > s->hi) s->outside = true;
  s->out->append(data, len);
}

// Feeds body[0..n) to a fresh decoder in pieces of the given sizes (which add up
// to n), each in its own guarded buffer.
BodyResult Decode(const char* body, size_t n, const std::vector<size_t>& pieces) {
  ChunkedDecoder d;
  BodyResult r;
  size_t off = 0;
  int which = 0;
  for (size_t len : pieces) {
    GuardBuffer& g = (which++ & 1) ? g_piece_b : g_piece_a;
    const char* p = g.Put(body + off, len);
    Sink sink{&r.data, p, p + len};
    size_t consumed = 123456789;
    r.result = d.Feed(p, len, &consumed, OnData, &sink);
    if (sink.outside) r.error = "data view outside the piece (or empty)";
    r.error_code = d.error();
    if ((r.result == ChunkedDecoder::Result::kBad) != (r.error_code != HttpError::kNone))
      r.error = "error() disagrees with the result";
    if (r.result == ChunkedDecoder::Result::kBad) return r;
    if (r.result == ChunkedDecoder::Result::kDone) {
      if (consumed > len) r.error = "consumed beyond the piece";
      r.consumed += consumed;
      r.body_bytes = d.body_bytes();
      // Feeding more after kDone consumes nothing.
      size_t again = 99;
      if (d.Feed(p, len, &again, OnData, &sink) != ChunkedDecoder::Result::kDone || again != 0)
        r.error = "Feed after kDone";
      return r;
    }
    if (consumed != len) r.error = "kNeedMore without consuming everything";
    r.consumed += len;
    off += len;
  }
  (void)n;
  r.body_bytes = d.body_bytes();
  return r;
}


}  // namespace

#endif  // TSGI_TEST_NATIVE_PARSER_RESULTS_H_
