// tsgi — a strict, pure HTTP/1.1 request parser (RFC 9112).
//
// Nothing here knows about sockets, libuv or N-API: the functions take bytes and
// return "consumed n / need more / bad, with a status". Every view a result holds
// points into the caller's buffer; nothing is copied.
#ifndef TSGI_NATIVE_HTTP_PARSER_H_
#define TSGI_NATIVE_HTTP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/types.h>

namespace tsgi {

// The three-way result of every parser here, as picohttpparser writes it.
constexpr ssize_t kParseNeedMore = -2;
constexpr ssize_t kParseBad = -1;

struct StrView {
  const char* data = nullptr;
  size_t len = 0;
};

struct HeaderField {
  StrView name;   // a token, as it came (case kept)
  StrView value;  // leading and trailing OWS removed; may hold obs-text bytes
};

enum class BodyFraming : uint8_t { kNone, kContentLength, kChunked };

struct HttpRequestHead {
  static constexpr size_t kMaxHeaders = 128;

  StrView method;
  StrView target;     // the request-target as sent
  int minor_version = 1;  // HTTP/1.<minor>; only 0 and 1 are accepted
  HeaderField headers[kMaxHeaders];
  size_t num_headers = 0;

  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;  // valid when framing == kContentLength
  bool keep_alive = true;       // from the version and the Connection header
  bool expect_continue = false; // "Expect: 100-continue" was sent
  bool has_host = false;        // a (single) Host header was present
  StrView host;                 // its value
};

// Parses one request head from buf[0..len).
//
// Returns the bytes consumed (the whole head, up to and including the empty line)
// when the head is complete and valid; kParseNeedMore when it is not complete yet
// and len < max_head; kParseBad when it is malformed, with *status set to the
// status to answer:
//   400  anything RFC 9112 does not allow: a bad request line, a bare LF where CRLF
//        is due, obsolete line folding, whitespace before a colon, NUL/CR/LF in a
//        value, a non-token field name, Content-Length together with
//        Transfer-Encoding, differing Content-Lengths, a Content-Length that is not
//        a decimal number (or overflows), a Transfer-Encoding whose last coding is
//        not chunked, Transfer-Encoding on HTTP/1.0, an HTTP/1.1 request without
//        exactly one Host header, more than one Host header.
//   431  the head is not complete within max_head bytes, or has more than
//        kMaxHeaders fields.
//   501  a Transfer-Encoding naming a coding other than chunked (whose last coding
//        is chunked, e.g. "gzip, chunked").
//   505  an HTTP version other than 1.0 and 1.1.
// Empty lines (CRLF) before the request line are skipped, as RFC 9112 §2.2 allows;
// they count in the bytes consumed.
ssize_t ParseRequestHead(const char* buf, size_t len, size_t max_head,
                         HttpRequestHead* out, int* status);

// Decodes a chunked request body (RFC 9112 §7.1), fed in pieces of any size.
class ChunkedDecoder {
 public:
  enum class Result : uint8_t { kNeedMore, kDone, kBad };

  // Called with each run of body bytes, as views into the fed buffer.
  using DataFn = void (*)(void* ctx, const char* data, size_t len);

  // Feeds buf[0..len). Hands every body byte found to on_data. Returns kDone when
  // the last chunk and the trailer section are complete, with *consumed set to the
  // bytes of buf used (the rest belongs to the next request); kNeedMore when all of
  // buf was used and more is due; kBad on malformed input (a bad chunk size or
  // extension, a size over 2^63, a missing CRLF after chunk data, a bare LF, a bad
  // trailer field), with *consumed meaningless. Trailer fields are checked and
  // dropped. A chunk-size line or trailer line longer than kMaxLine is bad.
  Result Feed(const char* buf, size_t len, size_t* consumed, DataFn on_data,
              void* ctx);

  // The decoded body bytes so far.
  uint64_t body_bytes() const { return body_bytes_; }

  void Reset();

  static constexpr size_t kMaxLine = 4096;

 private:
  enum class State : uint8_t {
    kSize,         // chunk-size hex digits
    kExtAfter,     // right after a quoted ext-val
    kExtWs,        // BWS that must be followed by ";"
    kExtPreName,   // after ";", BWS then ext-name
    kExtName,      // in ext-name
    kExtNameWs,    // BWS after ext-name: "=" or ";" follows
    kExtPreValue,  // after "=", BWS then ext-val
    kExtToken,     // in a token ext-val
    kExtQuoted,    // in a quoted-string ext-val
    kExtQuotedEsc, // after a backslash in a quoted-string
    kSizeLF,       // the LF ending a chunk-size line
    kData,         // chunk-data
    kDataCR, kDataLF,  // the CRLF after chunk-data
    kTrailerStart, // the start of a trailer line (or of the final CRLF)
    kTrailerName, kTrailerValue, kTrailerLF,
    kFinalLF,      // the LF of the CRLF ending the trailer section
    kDone, kBad
  };
  State state_ = State::kSize;
  uint64_t remaining_ = 0;    // the chunk size being read, then bytes left in it
  uint64_t body_bytes_ = 0;
  size_t line_len_ = 0;       // bytes so far of the current size or trailer line
  bool size_digits_ = false;  // the current size line has at least one digit
  // Extensions and trailers are checked byte by byte, so nothing is buffered.
};

// Percent-decodes src (RFC 3986) into *out, byte for byte: "%XX" with two hex
// digits becomes that byte; a "%" not followed by two hex digits is kept as it is.
// "+" is not special. Never fails.
void PercentDecode(const char* src, size_t len, std::string* out);

// Splits an origin-form or absolute-form request-target into its path and query
// (without the "?"). For absolute-form ("http://host:port/p?q") *authority receives
// "host:port". "*" gives path "*". Returns false for a target that is none of
// these forms (e.g. authority-form, an empty target).
bool SplitTarget(StrView target, StrView* path, StrView* query, StrView* authority);

}  // namespace tsgi

#endif  // TSGI_NATIVE_HTTP_PARSER_H_
