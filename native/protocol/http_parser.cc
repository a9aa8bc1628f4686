// tsgi — a strict, pure HTTP/1.1 request parser (RFC 9112). See http_parser.h.
//
// ParseRequestHead is a single forward pass over at most max_head bytes with no
// allocation. Every check depends only on the bytes before the point where it is
// made, so parsing any prefix of a request gives either kParseNeedMore or the very
// result the whole request gives: a server may re-parse its growing buffer.
#include "protocol/http_parser.h"

#include <cstring>

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
  kRegName = 32,   // unreserved / sub-delims (RFC 3986 §2.2, §2.3): a reg-name byte
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
    if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
      v |= kRegName;
    switch (ch) {
      case '-': case '.': case '_': case '~':  // the rest of unreserved
      case '!': case '$': case '&': case '\'': case '(': case ')':
      case '*': case '+': case ',': case ';': case '=':  // sub-delims
        v |= kRegName;
        break;
      default:
        break;
    }
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
inline bool IsRegName(unsigned char ch) { return (kChars.c[ch] & kRegName) != 0; }

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
// such values that are all equal. Returns kContentLength when malformed or over
// 2^63-1, kContentLengths when the values differ.
HttpError ParseContentLength(const unsigned char* p, const unsigned char* end, uint64_t* out) {
  bool have = false;
  bool differ = false;
  uint64_t first = 0;
  for (;;) {
    while (p < end && IsWs(*p)) ++p;
    if (p == end || *p < '0' || *p > '9') return HttpError::kContentLength;
    uint64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9') {
      const unsigned d = static_cast<unsigned>(*p - '0');
      if (v > (kMaxBodyLength - d) / 10) return HttpError::kContentLength;
      v = v * 10 + d;
      ++p;
    }
    if (have && v != first) differ = true;
    first = v;
    have = true;
    while (p < end && IsWs(*p)) ++p;
    if (p == end) break;
    if (*p != ',') return HttpError::kContentLength;
    ++p;
  }
  if (differ) return HttpError::kContentLengths;
  *out = first;
  return HttpError::kNone;
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

// Scans a Connection value for the "close", "keep-alive" and "upgrade" options.
void ParseConnection(const unsigned char* p, const unsigned char* end, bool* close,
                     bool* keep_alive, bool* upgrade) {
  while (p < end) {
    while (p < end && (IsWs(*p) || *p == ',')) ++p;
    const unsigned char* tok = p;
    while (p < end && *p != ',') ++p;
    const unsigned char* tend = p;
    while (tend > tok && IsWs(tend[-1])) --tend;
    const size_t n = static_cast<size_t>(tend - tok);
    if (BytesEqualLowerCi(tok, n, TSGI_LIT("close"))) *close = true;
    else if (BytesEqualLowerCi(tok, n, TSGI_LIT("keep-alive"))) *keep_alive = true;
    else if (BytesEqualLowerCi(tok, n, TSGI_LIT("upgrade"))) *upgrade = true;
  }
}

inline StrView View(const unsigned char* p, size_t n) {
  return StrView{reinterpret_cast<const char*>(p), n};
}

// A byte that is not the one due: a LF where CR LF was due is a bare LF, whatever
// the place; anything else is what the place says.
inline HttpError Unexpected(unsigned char ch, HttpError otherwise) {
  return ch == '\n' ? HttpError::kBareLf : otherwise;
}

// The reasons, by HttpError. Their words are the js backend's too
// (lib/refusal-reasons.ts), and docs/errors.md lists them.
constexpr HttpErrorInfo kErrors[] = {
    {0, ""},                                                                   // kNone
    {400, "malformed request line"},                                           // kRequestLine
    {505, "unsupported HTTP version"},                                         // kVersion
    {400, "malformed request target"},                                         // kTarget
    {400, "fragment in the request target"},                                   // kFragment
    {400, "asterisk-form target with a method other than OPTIONS"},            // kAsterisk
    {400, "invalid authority in the request target"},                          // kAuthority
    {400, "userinfo in the request target"},                                   // kUserinfo
    {400, "absolute-form target with a scheme other than http or https"},      // kScheme
    {400, "authority-form target with a method other than CONNECT"},           // kAuthorityForm
    {400, "CONNECT without an authority-form target"},                         // kConnectTarget
    {501, "CONNECT is not supported"},                                         // kConnect
    {400, "CR not followed by LF"},                                            // kBareCr
    {400, "bare LF"},                                                          // kBareLf
    {400, "obsolete line folding"},                                            // kObsFold
    {400, "whitespace before colon"},                                          // kSpaceBeforeColon
    {400, "malformed field name"},                                             // kFieldName
    {400, "invalid character in a field value"},                               // kFieldValue
    {400, "missing Host header"},                                              // kMissingHost
    {400, "more than one Host header"},                                        // kDuplicateHost
    {400, "malformed Content-Length"},                                         // kContentLength
    {400, "differing Content-Lengths"},                                        // kContentLengths
    {400, "Content-Length with Transfer-Encoding"},                            // kContentLengthAndTe
    {400, "Transfer-Encoding in HTTP/1.0"},                                    // kTeHttp10
    {400, "malformed Transfer-Encoding"},                                      // kTransferEncoding
    {400, "last transfer coding is not chunked"},                              // kTeNotChunked
    {400, "chunked listed more than once"},                                    // kTeChunkedTwice
    {501, "unsupported transfer coding"},                                      // kTeUnsupported
    {431, "request head over buffer-size"},                                    // kHeadTooLarge
    {431, "more than 128 header fields"},                                      // kTooManyFields
    {400, "malformed chunk size"},                                             // kChunkSize
    {400, "chunk size over 2^63-1"},                                           // kChunkSizeTooLarge
    {400, "malformed chunk extension"},                                        // kChunkExtension
    {400, "chunk-size or trailer line over 4096 bytes"},                       // kChunkLineTooLong
    {400, "no CRLF after chunk data"},                                         // kChunkDataEnd
    {400, "malformed trailer field"},                                          // kTrailer
};
static_assert(sizeof kErrors / sizeof kErrors[0] == static_cast<size_t>(HttpError::kCount),
              "one entry per HttpError");
static_assert(HttpRequestHead::kMaxHeaders == 128 && ChunkedDecoder::kMaxLine == 4096,
              "the reasons name these limits");

}  // namespace

const HttpErrorInfo& DescribeHttpError(HttpError error) {
  const size_t i = static_cast<size_t>(error);
  return kErrors[i < static_cast<size_t>(HttpError::kCount) ? i : 0];
}

// ---------------------------------------------------------------------------
// Request head.

ssize_t ParseRequestHead(const char* buf, size_t len, size_t max_head,
                         HttpRequestHead* out, HttpError* error) {
  const unsigned char* const start = reinterpret_cast<const unsigned char*>(buf);
  const size_t limit = len < max_head ? len : max_head;
  const unsigned char* const end = start + limit;
  const unsigned char* p = start;

  out->num_headers = 0;
  out->framing = BodyFraming::kNone;
  out->content_length = 0;
  out->keep_alive = true;
  out->expect_continue = false;
  out->upgrade = false;
  out->has_host = false;
  out->host = StrView{};
  out->method = StrView{};
  out->target = StrView{};
  out->path = StrView{};
  out->query = StrView{};
  out->authority = StrView{};

#define TSGI_NEED_MORE()                     \
  do {                                       \
    if (len >= max_head) {                   \
      *error = HttpError::kHeadTooLarge;     \
      return kParseBad;                      \
    }                                        \
    return kParseNeedMore;                   \
  } while (0)
#define TSGI_BAD(why)  \
  do {                 \
    *error = (why);    \
    return kParseBad;  \
  } while (0)

  // Empty lines before the request line (RFC 9112 §2.2).
  for (;;) {
    if (p == end) TSGI_NEED_MORE();
    if (*p != '\r') break;
    if (p + 1 == end) TSGI_NEED_MORE();
    if (p[1] != '\n') TSGI_BAD(HttpError::kBareCr);
    p += 2;
  }

  // method SP
  {
    const unsigned char* m = p;
    while (p < end && IsTchar(*p)) ++p;
    if (p == end) TSGI_NEED_MORE();
    if (p == m || *p != ' ') TSGI_BAD(Unexpected(*p, HttpError::kRequestLine));
    out->method = View(m, static_cast<size_t>(p - m));
    ++p;
  }
  // request-target SP
  {
    const unsigned char* t = p;
    while (p < end && IsTargetChar(*p)) ++p;
    if (p == end) TSGI_NEED_MORE();
    if (p == t || *p == '\r') TSGI_BAD(Unexpected(*p, HttpError::kRequestLine));
    if (*p != ' ') TSGI_BAD(Unexpected(*p, HttpError::kTarget));  // a CTL or DEL in it
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
      if (!ok) {
        TSGI_BAD(kPattern[i] == '\n' ? HttpError::kBareCr
                                     : Unexpected(c, HttpError::kRequestLine));
      }
    }
    if (p[5] != '1' || (p[7] != '0' && p[7] != '1')) TSGI_BAD(HttpError::kVersion);
    out->minor_version = p[7] - '0';
    p += sizeof(kPattern) - 1;
  }
  // The request line is whole: its target must suit its method.
  {
    const HttpError e = SplitTarget(out->method, out->target, &out->path, &out->query,
                                    &out->authority);
    if (e != HttpError::kNone) TSGI_BAD(e);
  }

  bool have_cl = false;
  bool conn_close = false;
  bool conn_keep_alive = false;
  bool conn_upgrade = false;
  bool has_upgrade = false;
  TeState te;
  size_t n = 0;

  for (;;) {
    if (p == end) TSGI_NEED_MORE();
    if (*p == '\r') {
      if (p + 1 == end) TSGI_NEED_MORE();
      if (p[1] != '\n') TSGI_BAD(HttpError::kBareCr);
      p += 2;
      break;
    }
    // field-name ":" — anything else here (SP/HTAB: obs-fold or whitespace before
    // the colon; a bare LF; an empty name; a non-tchar) is bad.
    const unsigned char* name = p;
    while (p < end && IsTchar(*p)) ++p;
    if (p == end) TSGI_NEED_MORE();
    if (*p != ':' || p == name) {
      if (IsWs(*p)) TSGI_BAD(p == name ? HttpError::kObsFold : HttpError::kSpaceBeforeColon);
      TSGI_BAD(Unexpected(*p, HttpError::kFieldName));
    }
    const size_t name_len = static_cast<size_t>(p - name);
    ++p;
    // OWS field-value OWS CRLF
    while (p < end && IsWs(*p)) ++p;
    const unsigned char* value = p;
    while (p < end && IsFieldByte(*p)) ++p;
    if (p == end) TSGI_NEED_MORE();
    if (*p != '\r') TSGI_BAD(Unexpected(*p, HttpError::kFieldValue));
    if (p + 1 == end) TSGI_NEED_MORE();
    if (p[1] != '\n') TSGI_BAD(HttpError::kBareCr);
    const unsigned char* vend = p;
    while (vend > value && IsWs(vend[-1])) --vend;
    p += 2;

    if (n == HttpRequestHead::kMaxHeaders) TSGI_BAD(HttpError::kTooManyFields);
    HeaderField& f = out->headers[n++];
    out->num_headers = n;
    f.name = View(name, name_len);
    f.value = View(value, static_cast<size_t>(vend - value));

    switch (name_len) {
      case 4:
        if (TokenEqualsLower(name, name_len, TSGI_LIT("host"))) {
          if (out->has_host) TSGI_BAD(HttpError::kDuplicateHost);
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
      case 7:
        if (TokenEqualsLower(name, name_len, TSGI_LIT("upgrade")) && vend != value) {
          has_upgrade = true;
        }
        break;
      case 10:
        if (TokenEqualsLower(name, name_len, TSGI_LIT("connection"))) {
          ParseConnection(value, vend, &conn_close, &conn_keep_alive, &conn_upgrade);
        }
        break;
      case 14:
        if (TokenEqualsLower(name, name_len, TSGI_LIT("content-length"))) {
          uint64_t v = 0;
          const HttpError e = ParseContentLength(value, vend, &v);
          if (e != HttpError::kNone) TSGI_BAD(e);
          if (have_cl && v != out->content_length) TSGI_BAD(HttpError::kContentLengths);
          have_cl = true;
          out->content_length = v;
        }
        break;
      case 17:
        if (TokenEqualsLower(name, name_len, TSGI_LIT("transfer-encoding"))) {
          if (!ParseTransferEncoding(value, vend, &te)) TSGI_BAD(HttpError::kTransferEncoding);
        }
        break;
      default:
        break;
    }
  }

  // Judgements on the whole head.
  if (out->minor_version == 1 && !out->has_host) TSGI_BAD(HttpError::kMissingHost);
  if (te.seen) {
    if (out->minor_version == 0) TSGI_BAD(HttpError::kTeHttp10);
    if (have_cl) TSGI_BAD(HttpError::kContentLengthAndTe);
    if (!te.last_chunked) TSGI_BAD(HttpError::kTeNotChunked);
    if (te.chunked != 1) TSGI_BAD(HttpError::kTeChunkedTwice);
    if (te.unknown) TSGI_BAD(HttpError::kTeUnsupported);
    out->framing = BodyFraming::kChunked;
    out->content_length = 0;
  } else if (have_cl) {
    out->framing = BodyFraming::kContentLength;
  }
  // RFC 9110 §7.8: an Upgrade field is an offer only when Connection names it; an
  // HTTP/1.0 request cannot switch (the server's 101 would be HTTP/1.1).
  out->upgrade = has_upgrade && conn_upgrade && out->minor_version == 1;
  if (out->minor_version == 1) {
    out->keep_alive = !conn_close;
  } else {
    out->keep_alive = conn_keep_alive && !conn_close;
  }
  *error = HttpError::kNone;
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
  error_ = HttpError::kNone;
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

  // why: the HttpError; a LF where it does not belong is a bare LF.
#define TSGI_CHUNK_BAD(why)   \
  do {                        \
    error_ = (why);           \
    state_ = State::kBad;     \
    *consumed = 0;            \
    return Result::kBad;      \
  } while (0)

  if (state_ == State::kBad) {
    *consumed = 0;
    return Result::kBad;
  }

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
        if (c != '\r' && ++line_len_ > kMaxLine) TSGI_CHUNK_BAD(HttpError::kChunkLineTooLong);
        break;
      default:
        break;
    }

    switch (state_) {
      case State::kSize:
        if (IsHexDigit(c)) {
          if (remaining_ > (kMaxBodyLength >> 4)) TSGI_CHUNK_BAD(HttpError::kChunkSizeTooLarge);
          remaining_ = (remaining_ << 4) | HexValue(c);
          size_digits_ = true;
        } else if (!size_digits_) {
          TSGI_CHUNK_BAD(Unexpected(c, HttpError::kChunkSize));
        } else if (c == '\r') {
          state_ = State::kSizeLF;
        } else if (c == ';') {
          state_ = State::kExtPreName;
        } else if (IsWs(c)) {
          state_ = State::kExtWs;
        } else {
          TSGI_CHUNK_BAD(Unexpected(c, HttpError::kChunkSize));
        }
        break;

      // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
      case State::kExtAfter:  // right after an ext-val: CR, ";" or BWS
        if (c == '\r') state_ = State::kSizeLF;
        else if (c == ';') state_ = State::kExtPreName;
        else if (IsWs(c)) state_ = State::kExtWs;
        else TSGI_CHUNK_BAD(Unexpected(c, HttpError::kChunkExtension));
        break;
      case State::kExtWs:  // BWS that must lead to ";"
        if (c == ';') state_ = State::kExtPreName;
        else if (!IsWs(c)) TSGI_CHUNK_BAD(Unexpected(c, HttpError::kChunkExtension));
        break;
      case State::kExtPreName:
        if (IsTchar(c)) state_ = State::kExtName;
        else if (!IsWs(c)) TSGI_CHUNK_BAD(Unexpected(c, HttpError::kChunkExtension));
        break;
      case State::kExtName:
        if (IsTchar(c)) break;
        if (c == '\r') state_ = State::kSizeLF;
        else if (c == ';') state_ = State::kExtPreName;
        else if (c == '=') state_ = State::kExtPreValue;
        else if (IsWs(c)) state_ = State::kExtNameWs;
        else TSGI_CHUNK_BAD(Unexpected(c, HttpError::kChunkExtension));
        break;
      case State::kExtNameWs:  // BWS after a name: "=" or ";" must follow
        if (c == '=') state_ = State::kExtPreValue;
        else if (c == ';') state_ = State::kExtPreName;
        else if (!IsWs(c)) TSGI_CHUNK_BAD(Unexpected(c, HttpError::kChunkExtension));
        break;
      case State::kExtPreValue:
        if (IsTchar(c)) state_ = State::kExtToken;
        else if (c == '"') state_ = State::kExtQuoted;
        else if (!IsWs(c)) TSGI_CHUNK_BAD(Unexpected(c, HttpError::kChunkExtension));
        break;
      case State::kExtToken:
        if (IsTchar(c)) break;
        if (c == '\r') state_ = State::kSizeLF;
        else if (c == ';') state_ = State::kExtPreName;
        else if (IsWs(c)) state_ = State::kExtWs;
        else TSGI_CHUNK_BAD(Unexpected(c, HttpError::kChunkExtension));
        break;
      case State::kExtQuoted:
        if (c == '"') state_ = State::kExtAfter;
        else if (c == '\\') state_ = State::kExtQuotedEsc;
        else if (!IsQdtext(c)) TSGI_CHUNK_BAD(Unexpected(c, HttpError::kChunkExtension));
        break;
      case State::kExtQuotedEsc:
        if (!IsFieldByte(c)) TSGI_CHUNK_BAD(Unexpected(c, HttpError::kChunkExtension));
        state_ = State::kExtQuoted;
        break;

      case State::kSizeLF:
        if (c != '\n') TSGI_CHUNK_BAD(HttpError::kBareCr);
        line_len_ = 0;
        size_digits_ = false;
        state_ = remaining_ == 0 ? State::kTrailerStart : State::kData;
        break;
      case State::kDataCR:
        if (c != '\r') TSGI_CHUNK_BAD(Unexpected(c, HttpError::kChunkDataEnd));
        state_ = State::kDataLF;
        break;
      case State::kDataLF:
        if (c != '\n') TSGI_CHUNK_BAD(HttpError::kBareCr);
        state_ = State::kSize;
        break;

      // trailer-section = *( field-line CRLF ) CRLF
      case State::kTrailerStart:
        if (c == '\r') state_ = State::kFinalLF;
        else if (IsTchar(c)) state_ = State::kTrailerName;
        else TSGI_CHUNK_BAD(Unexpected(c, HttpError::kTrailer));  // obs-fold, bare LF, empty name, ...
        break;
      case State::kTrailerName:
        if (c == ':') state_ = State::kTrailerValue;
        else if (!IsTchar(c)) TSGI_CHUNK_BAD(Unexpected(c, HttpError::kTrailer));
        break;
      case State::kTrailerValue:
        if (c == '\r') state_ = State::kTrailerLF;
        else if (!IsFieldByte(c)) TSGI_CHUNK_BAD(Unexpected(c, HttpError::kTrailer));
        break;
      case State::kTrailerLF:
        if (c != '\n') TSGI_CHUNK_BAD(HttpError::kBareCr);
        line_len_ = 0;
        state_ = State::kTrailerStart;
        break;
      case State::kFinalLF:
        if (c != '\n') TSGI_CHUNK_BAD(HttpError::kBareCr);
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

namespace {

inline bool IsAlpha(unsigned char ch) { return (ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'; }
inline bool IsDigit(unsigned char ch) { return ch >= '0' && ch <= '9'; }

inline bool Equals(StrView v, const char* lit, size_t lit_len) {
  return v.len == lit_len && std::memcmp(v.data, lit, lit_len) == 0;
}

// Judges an authority, host [":" port] (RFC 3986 §3.2): host is an IP-literal
// ("[" IPv6 or IPvFuture "]", its bytes checked loosely: hex digits, ":" and "."),
// or a non-empty reg-name or IPv4 address (unreserved, sub-delims, "%" HEXDIG HEXDIG);
// port is digits, at least one when need_port. Returns kUserinfo for an "@",
// kAuthority for anything else wrong.
HttpError CheckAuthority(const unsigned char* s, size_t n, bool need_port) {
  if (std::memchr(s, '@', n) != nullptr) return HttpError::kUserinfo;
  size_t i = 0;
  if (n > 0 && s[0] == '[') {
    i = 1;
    if (i < n && (s[i] | 0x20) == 'v') {  // IPvFuture: "v" 1*HEXDIG "." 1*( ... / ":" )
      const size_t hex = ++i;
      while (i < n && IsHexDigit(s[i])) ++i;
      if (i == hex || i == n || s[i] != '.') return HttpError::kAuthority;
      const size_t rest = ++i;
      while (i < n && (IsRegName(s[i]) || s[i] == ':')) ++i;
      if (i == rest) return HttpError::kAuthority;
    } else {
      const size_t a = i;
      while (i < n && (IsHexDigit(s[i]) || s[i] == ':' || s[i] == '.')) ++i;
      if (i == a) return HttpError::kAuthority;
    }
    if (i == n || s[i] != ']') return HttpError::kAuthority;
    ++i;
  } else {
    while (i < n && s[i] != ':') {
      if (s[i] == '%') {
        if (n - i < 3 || !IsHexDigit(s[i + 1]) || !IsHexDigit(s[i + 2])) return HttpError::kAuthority;
        i += 3;
      } else if (IsRegName(s[i])) {
        ++i;
      } else {
        return HttpError::kAuthority;
      }
    }
    if (i == 0) return HttpError::kAuthority;  // an empty host (RFC 9110 §4.2.1)
  }
  if (i == n) return need_port ? HttpError::kAuthority : HttpError::kNone;
  if (s[i] != ':') return HttpError::kAuthority;
  const size_t port = ++i;
  while (i < n && IsDigit(s[i])) ++i;
  if (i != n || (need_port && i == port)) return HttpError::kAuthority;
  return HttpError::kNone;
}

// The length of a URI scheme at the start of s[0..n) followed by ":" (RFC 3986 §3.1:
// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), or 0 when there is none.
size_t SchemeLength(const unsigned char* s, size_t n) {
  if (n == 0 || !IsAlpha(s[0])) return 0;
  size_t i = 1;
  while (i < n && (IsAlpha(s[i]) || IsDigit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')) ++i;
  return i < n && s[i] == ':' ? i : 0;
}

}  // namespace

HttpError SplitTarget(StrView method, StrView target, StrView* path, StrView* query,
                      StrView* authority) {
  const unsigned char* const s = reinterpret_cast<const unsigned char*>(target.data);
  const size_t n = target.len;
  *path = StrView{};
  *query = StrView{};
  *authority = StrView{};
  if (n == 0 || s == nullptr) return HttpError::kTarget;

  // authority-form (RFC 9112 §3.2.3): CONNECT's only form, and only CONNECT's.
  if (Equals(method, TSGI_LIT("CONNECT"))) {
    return CheckAuthority(s, n, true) == HttpError::kNone ? HttpError::kConnect
                                                          : HttpError::kConnectTarget;
  }
  size_t i = 0;
  if (s[0] == '*') {  // asterisk-form (§3.2.4)
    if (n != 1) return HttpError::kTarget;
    if (!Equals(method, TSGI_LIT("OPTIONS"))) return HttpError::kAsterisk;
    *path = target;
    return HttpError::kNone;
  }
  if (s[0] != '/') {
    // absolute-form (§3.2.2): scheme "://" authority path-abempty [ "?" query ]
    const size_t scheme = SchemeLength(s, n);
    const bool slashes = scheme > 0 && n - scheme >= 3 && s[scheme + 1] == '/' && s[scheme + 2] == '/';
    if (!slashes) {
      if (CheckAuthority(s, n, true) == HttpError::kNone) return HttpError::kAuthorityForm;
      if (scheme == 0) return HttpError::kTarget;
      const bool http = TokenEqualsLower(s, scheme, TSGI_LIT("http")) ||
                        TokenEqualsLower(s, scheme, TSGI_LIT("https"));
      return http ? HttpError::kAuthority : HttpError::kScheme;  // "http:x" has none
    }
    i = scheme + 3;
    const size_t a = i;
    while (i < n && s[i] != '/' && s[i] != '?' && s[i] != '#') ++i;
    const HttpError e = CheckAuthority(s + a, i - a, false);
    if (e != HttpError::kNone) return e;
    if (!TokenEqualsLower(s, scheme, TSGI_LIT("http")) &&
        !TokenEqualsLower(s, scheme, TSGI_LIT("https"))) {
      return HttpError::kScheme;
    }
    if (std::memchr(s + i, '#', n - i) != nullptr) return HttpError::kFragment;
    *authority = StrView{target.data + a, i - a};
  } else if (std::memchr(s, '#', n) != nullptr) {
    // RFC 9112 §3.2: the target holds no fragment (RFC 3986 has "#" nowhere else).
    return HttpError::kFragment;
  }
  const size_t ps = i;
  const void* q = std::memchr(s + i, '?', n - i);
  i = q != nullptr ? static_cast<size_t>(static_cast<const unsigned char*>(q) - s) : n;
  *path = StrView{target.data + ps, i - ps};
  if (i < n) *query = StrView{target.data + i + 1, n - i - 1};
  return HttpError::kNone;
}

}  // namespace tsgi
