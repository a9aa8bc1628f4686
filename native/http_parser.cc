// tsgi — a strict, pure HTTP/1.1 request parser (RFC 9112). See http_parser.h.
//
// ParseRequestHead is a single forward pass over at most max_head bytes with no
// allocation. Every check depends only on the bytes before the point where it is
// made, so parsing any prefix of a request gives either kParseNeedMore or the very
// result the whole request gives: a server may re-parse its growing buffer.
#include "http_parser.h"

namespace tsgi {
namespace {

// ---------------------------------------------------------------------------
// Character classes.

enum : uint8_t {
  kTchar = 1,      // token character (RFC 9110 §5.6.2)
  kFieldVchar = 2, // VCHAR or obs-text: a field value byte other than SP/HTAB
  kTargetChar = 4, // allowed in a request-target: not < 0x21, not 0x7f
  kHexDigit = 8,
  kQdtext = 16,    // qdtext (RFC 9110 §5.6.4), without HTAB/SP
};

struct CharTable {
  uint8_t c[256];
};

constexpr bool IsTcharSlow(unsigned ch) {
  if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
    return true;
  switch (ch) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

constexpr CharTable MakeTable() {
  CharTable t{};
  for (unsigned ch = 0; ch < 256; ++ch) {
    uint8_t v = 0;
    if (IsTcharSlow(ch)) v |= kTchar;
    if ((ch >= 0x21 && ch <= 0x7e) || ch >= 0x80) v |= kFieldVchar;
    if (ch >= 0x21 && ch != 0x7f) v |= kTargetChar;
    if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))
      v |= kHexDigit;
    if (ch == 0x21 || (ch >= 0x23 && ch <= 0x5b) || (ch >= 0x5d && ch <= 0x7e) || ch >= 0x80)
      v |= kQdtext;
    t.c[ch] = v;
  }
  return t;
}

constexpr CharTable kChars = MakeTable();

inline bool IsTchar(unsigned char ch) { return (kChars.c[ch] & kTchar) != 0; }
inline bool IsFieldVchar(unsigned char ch) { return (kChars.c[ch] & kFieldVchar) != 0; }
inline bool IsFieldByte(unsigned char ch) {
  return (kChars.c[ch] & kFieldVchar) != 0 || ch == ' ' || ch == '\t';
}
inline bool IsTargetChar(unsigned char ch) { return (kChars.c[ch] & kTargetChar) != 0; }
inline bool IsHexDigit(unsigned char ch) { return (kChars.c[ch] & kHexDigit) != 0; }
inline bool IsQdtext(unsigned char ch) {
  return (kChars.c[ch] & kQdtext) != 0 || ch == ' ' || ch == '\t';
}
inline bool IsWs(unsigned char ch) { return ch == ' ' || ch == '\t'; }

inline unsigned HexValue(unsigned char ch) {
  if (ch <= '9') return static_cast<unsigned>(ch - '0');
  return static_cast<unsigned>((ch | 0x20) - 'a' + 10);
}

// Compares a token (bytes that are all tchar) with a lower-case literal made of
// letters, digits and '-', ignoring case. For tchar bytes, (c | 0x20) equals a
// lower-case letter only when c is that letter in either case, and equals a digit
// or '-' only when c is that very byte.
inline bool TokenEqualsLower(const unsigned char* s, size_t n, const char* lit, size_t lit_len) {
  if (n != lit_len) return false;
  for (size_t i = 0; i < n; ++i) {
    if ((s[i] | 0x20) != static_cast<unsigned char>(lit[i])) return false;
  }
  return true;
}

// Like TokenEqualsLower but for arbitrary bytes (field values).
inline bool BytesEqualLowerCi(const unsigned char* s, size_t n, const char* lit, size_t lit_len) {
  if (n != lit_len) return false;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c | 0x20);
    if (c != static_cast<unsigned char>(lit[i])) return false;
  }
  return true;
}

#define TSGI_LIT(s) s, sizeof(s) - 1

constexpr uint64_t kMaxBodyLength = 0x7fffffffffffffffULL;  // 2^63 - 1

// Parses a Content-Length value (already OWS-trimmed): 1*DIGIT, or a comma list of
// such values that are all equal. Returns false when malformed or over 2^63-1.
bool ParseContentLength(const unsigned char* p, const unsigned char* end, uint64_t* out) {
  bool have = false;
  uint64_t first = 0;
  for (;;) {
    while (p < end && IsWs(*p)) ++p;
    if (p == end || *p < '0' || *p > '9') return false;
    uint64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9') {
      const unsigned d = static_cast<unsigned>(*p - '0');
      if (v > (kMaxBodyLength - d) / 10) return false;
      v = v * 10 + d;
      ++p;
    }
    if (have && v != first) return false;
    first = v;
    have = true;
    while (p < end && IsWs(*p)) ++p;
    if (p == end) break;
    if (*p != ',') return false;
    ++p;
  }
  *out = first;
  return true;
}

// Framing facts collected from Transfer-Encoding headers, judged at the end.
struct TeState {
  bool seen = false;
  bool last_chunked = false;
  bool unknown = false;   // a coding other than chunked
  unsigned chunked = 0;   // how many times chunked was listed
};

// Skips a quoted-string starting at p (which points at the opening DQUOTE).
// Returns the position after the closing DQUOTE, or nullptr when malformed.
const unsigned char* SkipQuotedString(const unsigned char* p, const unsigned char* end) {
  ++p;
  while (p < end) {
    const unsigned char c = *p;
    if (c == '"') return p + 1;
    if (c == '\\') {
      ++p;
      if (p == end || !IsFieldByte(*p)) return nullptr;
      ++p;
    } else if (IsQdtext(c)) {
      ++p;
    } else {
      return nullptr;
    }
  }
  return nullptr;
}

// Parses one Transfer-Encoding field value into *te. Returns false when it is
// malformed: an empty list element, a non-token coding, a bad parameter, or
// parameters on chunked.
bool ParseTransferEncoding(const unsigned char* p, const unsigned char* end, TeState* te) {
  te->seen = true;
  for (;;) {
    while (p < end && IsWs(*p)) ++p;
    const unsigned char* tok = p;
    while (p < end && IsTchar(*p)) ++p;
    if (p == tok) return false;
    const bool is_chunked = TokenEqualsLower(tok, static_cast<size_t>(p - tok), TSGI_LIT("chunked"));
    bool has_params = false;
    // *( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) )
    for (;;) {
      const unsigned char* save = p;
      while (p < end && IsWs(*p)) ++p;
      if (p == end || *p != ';') {
        p = save;
        break;
      }
      ++p;
      has_params = true;
      while (p < end && IsWs(*p)) ++p;
      const unsigned char* name = p;
      while (p < end && IsTchar(*p)) ++p;
      if (p == name) return false;
      while (p < end && IsWs(*p)) ++p;
      if (p == end || *p != '=') return false;
      ++p;
      while (p < end && IsWs(*p)) ++p;
      if (p < end && *p == '"') {
        p = SkipQuotedString(p, end);
        if (p == nullptr) return false;
      } else {
        const unsigned char* val = p;
        while (p < end && IsTchar(*p)) ++p;
        if (p == val) return false;
      }
    }
    if (is_chunked) {
      if (has_params) return false;
      ++te->chunked;
      te->last_chunked = true;
    } else {
      te->unknown = true;
      te->last_chunked = false;
    }
    while (p < end && IsWs(*p)) ++p;
    if (p == end) return true;
    if (*p != ',') return false;
    ++p;
  }
}

// Scans a Connection value for the "close" and "keep-alive" options.
void ParseConnection(const unsigned char* p, const unsigned char* end, bool* close,
                     bool* keep_alive) {
  while (p < end) {
    while (p < end && (IsWs(*p) || *p == ',')) ++p;
    const unsigned char* tok = p;
    while (p < end && *p != ',') ++p;
    const unsigned char* tend = p;
    while (tend > tok && IsWs(tend[-1])) --tend;
    const size_t n = static_cast<size_t>(tend - tok);
    if (BytesEqualLowerCi(tok, n, TSGI_LIT("close"))) *close = true;
    else if (BytesEqualLowerCi(tok, n, TSGI_LIT("keep-alive"))) *keep_alive = true;
  }
}

inline StrView View(const unsigned char* p, size_t n) {
  return StrView{reinterpret_cast<const char*>(p), n};
}

}  // namespace

// ---------------------------------------------------------------------------
// Request head.

ssize_t ParseRequestHead(const char* buf, size_t len, size_t max_head,
                         HttpRequestHead* out, int* status) {
  const unsigned char* const start = reinterpret_cast<const unsigned char*>(buf);
  const size_t limit = len < max_head ? len : max_head;
  const unsigned char* const end = start + limit;
  const unsigned char* p = start;

  out->num_headers = 0;
  out->framing = BodyFraming::kNone;
  out->content_length = 0;
  out->keep_alive = true;
  out->expect_continue = false;
  out->has_host = false;
  out->host = StrView{};
  out->method = StrView{};
  out->target = StrView{};

#define TSGI_NEED_MORE()                  \
  do {                                    \
    if (len >= max_head) {                \
      *status = 431;                      \
      return kParseBad;                   \
    }                                     \
    return kParseNeedMore;                \
  } while (0)
#define TSGI_BAD(code) \
  do {                 \
    *status = (code);  \
    return kParseBad;  \
  } while (0)

  // Empty lines before the request line (RFC 9112 §2.2).
  for (;;) {
    if (p == end) TSGI_NEED_MORE();
    if (*p != '\r') break;
    if (p + 1 == end) TSGI_NEED_MORE();
    if (p[1] != '\n') TSGI_BAD(400);
    p += 2;
  }

  // method SP
  {
    const unsigned char* m = p;
    while (p < end && IsTchar(*p)) ++p;
    if (p == end) TSGI_NEED_MORE();
    if (p == m || *p != ' ') TSGI_BAD(400);
    out->method = View(m, static_cast<size_t>(p - m));
    ++p;
  }
  // request-target SP
  {
    const unsigned char* t = p;
    while (p < end && IsTargetChar(*p)) ++p;
    if (p == end) TSGI_NEED_MORE();
    if (p == t || *p != ' ') TSGI_BAD(400);
    out->target = View(t, static_cast<size_t>(p - t));
    ++p;
  }
  // HTTP-version CRLF: "HTTP/" DIGIT "." DIGIT CR LF
  {
    static const char kPattern[] = "HTTP/d.d\r\n";
    for (size_t i = 0; i < sizeof(kPattern) - 1; ++i) {
      if (p + i == end) TSGI_NEED_MORE();
      const unsigned char c = p[i];
      const bool ok = kPattern[i] == 'd' ? (c >= '0' && c <= '9')
                                         : c == static_cast<unsigned char>(kPattern[i]);
      if (!ok) TSGI_BAD(400);
    }
    if (p[5] != '1' || (p[7] != '0' && p[7] != '1')) TSGI_BAD(505);
    out->minor_version = p[7] - '0';
    p += sizeof(kPattern) - 1;
  }

  bool have_cl = false;
  bool conn_close = false;
  bool conn_keep_alive = false;
  TeState te;
  size_t n = 0;

  for (;;) {
    if (p == end) TSGI_NEED_MORE();
    if (*p == '\r') {
      if (p + 1 == end) TSGI_NEED_MORE();
      if (p[1] != '\n') TSGI_BAD(400);
      p += 2;
      break;
    }
    // field-name ":" — anything else here (SP/HTAB: obs-fold or whitespace before
    // the colon; a bare LF; an empty name; a non-tchar) is bad.
    const unsigned char* name = p;
    while (p < end && IsTchar(*p)) ++p;
    if (p == end) TSGI_NEED_MORE();
    if (*p != ':' || p == name) TSGI_BAD(400);
    const size_t name_len = static_cast<size_t>(p - name);
    ++p;
    // OWS field-value OWS CRLF
    while (p < end && IsWs(*p)) ++p;
    const unsigned char* value = p;
    while (p < end && IsFieldByte(*p)) ++p;
    if (p == end) TSGI_NEED_MORE();
    if (*p != '\r') TSGI_BAD(400);
    if (p + 1 == end) TSGI_NEED_MORE();
    if (p[1] != '\n') TSGI_BAD(400);
    const unsigned char* vend = p;
    while (vend > value && IsWs(vend[-1])) --vend;
    p += 2;

    if (n == HttpRequestHead::kMaxHeaders) TSGI_BAD(431);
    HeaderField& f = out->headers[n++];
    out->num_headers = n;
    f.name = View(name, name_len);
    f.value = View(value, static_cast<size_t>(vend - value));

    switch (name_len) {
      case 4:
        if (TokenEqualsLower(name, name_len, TSGI_LIT("host"))) {
          if (out->has_host) TSGI_BAD(400);
          out->has_host = true;
          out->host = f.value;
        }
        break;
      case 6:
        if (TokenEqualsLower(name, name_len, TSGI_LIT("expect")) &&
            BytesEqualLowerCi(value, static_cast<size_t>(vend - value), TSGI_LIT("100-continue"))) {
          out->expect_continue = true;
        }
        break;
      case 10:
        if (TokenEqualsLower(name, name_len, TSGI_LIT("connection"))) {
          ParseConnection(value, vend, &conn_close, &conn_keep_alive);
        }
        break;
      case 14:
        if (TokenEqualsLower(name, name_len, TSGI_LIT("content-length"))) {
          uint64_t v;
          if (!ParseContentLength(value, vend, &v)) TSGI_BAD(400);
          if (have_cl && v != out->content_length) TSGI_BAD(400);
          have_cl = true;
          out->content_length = v;
        }
        break;
      case 17:
        if (TokenEqualsLower(name, name_len, TSGI_LIT("transfer-encoding"))) {
          if (!ParseTransferEncoding(value, vend, &te)) TSGI_BAD(400);
        }
        break;
      default:
        break;
    }
  }

  // Judgements on the whole head.
  if (out->minor_version == 1 && !out->has_host) TSGI_BAD(400);
  if (te.seen) {
    if (out->minor_version == 0) TSGI_BAD(400);
    if (have_cl) TSGI_BAD(400);
    if (!te.last_chunked || te.chunked != 1) TSGI_BAD(400);
    if (te.unknown) TSGI_BAD(501);
    out->framing = BodyFraming::kChunked;
    out->content_length = 0;
  } else if (have_cl) {
    out->framing = BodyFraming::kContentLength;
  }
  if (out->minor_version == 1) {
    out->keep_alive = !conn_close;
  } else {
    out->keep_alive = conn_keep_alive && !conn_close;
  }
  *status = 0;
  return static_cast<ssize_t>(p - start);

#undef TSGI_NEED_MORE
#undef TSGI_BAD
}

// ---------------------------------------------------------------------------
// Chunked body.

void ChunkedDecoder::Reset() {
  state_ = State::kSize;
  remaining_ = 0;
  body_bytes_ = 0;
  line_len_ = 0;
  size_digits_ = false;
}

ChunkedDecoder::Result ChunkedDecoder::Feed(const char* buf, size_t len, size_t* consumed,
                                            DataFn on_data, void* ctx) {
  const unsigned char* const start = reinterpret_cast<const unsigned char*>(buf);
  const unsigned char* const end = start + len;
  const unsigned char* p = start;

  if (state_ == State::kDone) {
    *consumed = 0;
    return Result::kDone;
  }

#define TSGI_CHUNK_BAD()     \
  do {                       \
    state_ = State::kBad;    \
    *consumed = 0;           \
    return Result::kBad;     \
  } while (0)

  if (state_ == State::kBad) TSGI_CHUNK_BAD();

  while (p < end) {
    if (state_ == State::kData) {
      const size_t avail = static_cast<size_t>(end - p);
      const size_t take = remaining_ < avail ? static_cast<size_t>(remaining_) : avail;
      on_data(ctx, reinterpret_cast<const char*>(p), take);
      p += take;
      remaining_ -= take;
      body_bytes_ += take;
      if (remaining_ == 0) state_ = State::kDataCR;
      continue;
    }

    const unsigned char c = *p++;
    // Every byte of a chunk-size or trailer line before its CR counts.
    switch (state_) {
      case State::kSize:
      case State::kExtAfter:
      case State::kExtWs:
      case State::kExtPreName:
      case State::kExtName:
      case State::kExtNameWs:
      case State::kExtPreValue:
      case State::kExtToken:
      case State::kExtQuoted:
      case State::kExtQuotedEsc:
      case State::kTrailerStart:
      case State::kTrailerName:
      case State::kTrailerValue:
        if (c != '\r' && ++line_len_ > kMaxLine) TSGI_CHUNK_BAD();
        break;
      default:
        break;
    }

    switch (state_) {
      case State::kSize:
        if (IsHexDigit(c)) {
          if (remaining_ > (kMaxBodyLength >> 4)) TSGI_CHUNK_BAD();
          remaining_ = (remaining_ << 4) | HexValue(c);
          size_digits_ = true;
        } else if (!size_digits_) {
          TSGI_CHUNK_BAD();
        } else if (c == '\r') {
          state_ = State::kSizeLF;
        } else if (c == ';') {
          state_ = State::kExtPreName;
        } else if (IsWs(c)) {
          state_ = State::kExtWs;
        } else {
          TSGI_CHUNK_BAD();
        }
        break;

      // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
      case State::kExtAfter:  // right after an ext-val: CR, ";" or BWS
        if (c == '\r') state_ = State::kSizeLF;
        else if (c == ';') state_ = State::kExtPreName;
        else if (IsWs(c)) state_ = State::kExtWs;
        else TSGI_CHUNK_BAD();
        break;
      case State::kExtWs:  // BWS that must lead to ";"
        if (c == ';') state_ = State::kExtPreName;
        else if (!IsWs(c)) TSGI_CHUNK_BAD();
        break;
      case State::kExtPreName:
        if (IsTchar(c)) state_ = State::kExtName;
        else if (!IsWs(c)) TSGI_CHUNK_BAD();
        break;
      case State::kExtName:
        if (IsTchar(c)) break;
        if (c == '\r') state_ = State::kSizeLF;
        else if (c == ';') state_ = State::kExtPreName;
        else if (c == '=') state_ = State::kExtPreValue;
        else if (IsWs(c)) state_ = State::kExtNameWs;
        else TSGI_CHUNK_BAD();
        break;
      case State::kExtNameWs:  // BWS after a name: "=" or ";" must follow
        if (c == '=') state_ = State::kExtPreValue;
        else if (c == ';') state_ = State::kExtPreName;
        else if (!IsWs(c)) TSGI_CHUNK_BAD();
        break;
      case State::kExtPreValue:
        if (IsTchar(c)) state_ = State::kExtToken;
        else if (c == '"') state_ = State::kExtQuoted;
        else if (!IsWs(c)) TSGI_CHUNK_BAD();
        break;
      case State::kExtToken:
        if (IsTchar(c)) break;
        if (c == '\r') state_ = State::kSizeLF;
        else if (c == ';') state_ = State::kExtPreName;
        else if (IsWs(c)) state_ = State::kExtWs;
        else TSGI_CHUNK_BAD();
        break;
      case State::kExtQuoted:
        if (c == '"') state_ = State::kExtAfter;
        else if (c == '\\') state_ = State::kExtQuotedEsc;
        else if (!IsQdtext(c)) TSGI_CHUNK_BAD();
        break;
      case State::kExtQuotedEsc:
        if (!IsFieldByte(c)) TSGI_CHUNK_BAD();
        state_ = State::kExtQuoted;
        break;

      case State::kSizeLF:
        if (c != '\n') TSGI_CHUNK_BAD();
        line_len_ = 0;
        size_digits_ = false;
        state_ = remaining_ == 0 ? State::kTrailerStart : State::kData;
        break;
      case State::kDataCR:
        if (c != '\r') TSGI_CHUNK_BAD();
        state_ = State::kDataLF;
        break;
      case State::kDataLF:
        if (c != '\n') TSGI_CHUNK_BAD();
        state_ = State::kSize;
        break;

      // trailer-section = *( field-line CRLF ) CRLF
      case State::kTrailerStart:
        if (c == '\r') state_ = State::kFinalLF;
        else if (IsTchar(c)) state_ = State::kTrailerName;
        else TSGI_CHUNK_BAD();  // obs-fold, bare LF, empty name, ...
        break;
      case State::kTrailerName:
        if (c == ':') state_ = State::kTrailerValue;
        else if (!IsTchar(c)) TSGI_CHUNK_BAD();
        break;
      case State::kTrailerValue:
        if (c == '\r') state_ = State::kTrailerLF;
        else if (!IsFieldByte(c)) TSGI_CHUNK_BAD();
        break;
      case State::kTrailerLF:
        if (c != '\n') TSGI_CHUNK_BAD();
        line_len_ = 0;
        state_ = State::kTrailerStart;
        break;
      case State::kFinalLF:
        if (c != '\n') TSGI_CHUNK_BAD();
        state_ = State::kDone;
        *consumed = static_cast<size_t>(p - start);
        return Result::kDone;

      case State::kData:
      case State::kDone:
      case State::kBad:
        break;  // not reached
    }
  }
  *consumed = len;
  return Result::kNeedMore;
#undef TSGI_CHUNK_BAD
}

// ---------------------------------------------------------------------------
// Targets.

void PercentDecode(const char* src, size_t len, std::string* out) {
  out->clear();
  out->reserve(len);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(src);
  const unsigned char* const end = p + len;
  while (p < end) {
    const unsigned char* pct = p;
    while (pct < end && *pct != '%') ++pct;
    out->append(reinterpret_cast<const char*>(p), static_cast<size_t>(pct - p));
    if (pct == end) break;
    if (end - pct >= 3 && IsHexDigit(pct[1]) && IsHexDigit(pct[2])) {
      out->push_back(static_cast<char>((HexValue(pct[1]) << 4) | HexValue(pct[2])));
      p = pct + 3;
    } else {
      out->push_back('%');
      p = pct + 1;
    }
  }
}

bool SplitTarget(StrView target, StrView* path, StrView* query, StrView* authority) {
  const char* const s = target.data;
  const size_t n = target.len;
  *path = StrView{};
  *query = StrView{};
  *authority = StrView{};
  if (n == 0 || s == nullptr) return false;

  size_t i = 0;
  if (s[0] == '*') {
    if (n != 1) return false;
    *path = StrView{s, 1};
    return true;
  }
  if (s[0] != '/') {
    // absolute-form: scheme "://" authority path-abempty [ "?" query ]
    const auto is_alpha = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); };
    if (!is_alpha(s[0])) return false;
    i = 1;
    while (i < n && (is_alpha(s[i]) || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
                     s[i] == '-' || s[i] == '.')) {
      ++i;
    }
    if (n - i < 3 || s[i] != ':' || s[i + 1] != '/' || s[i + 2] != '/') return false;
    i += 3;
    const size_t a = i;
    while (i < n && s[i] != '/' && s[i] != '?') {
      if (s[i] == '@') return false;  // userinfo is not allowed (RFC 9110 §4.2.4)
      ++i;
    }
    if (i == a) return false;
    *authority = StrView{s + a, i - a};
  }
  const size_t ps = i;
  while (i < n && s[i] != '?') ++i;
  *path = StrView{s + ps, i - ps};
  if (i < n) *query = StrView{s + i + 1, n - i - 1};
  return true;
}

}  // namespace tsgi
