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

// Why a request is refused: every way ParseRequestHead and ChunkedDecoder find a
// request bad has a code of its own, and DescribeHttpError gives its status and the
// reason the log line names ("refused 400 Bad Request: fragment in the request
// target"). lib/refusal-reasons.ts holds the same words for the js backend, and
// docs/errors.md lists them.
enum class HttpError : uint8_t {
  kNone,
  // The request line.
  kRequestLine,          // not method SP request-target SP HTTP-version CRLF
  kVersion,              // 505: HTTP/D.D other than 1.0 and 1.1
  // The request-target (RFC 9112 §3.2), judged once the request line is complete.
  kTarget,               // of no form: not "/...", "*", scheme "://...", nor host:port
  kFragment,             // a "#" (RFC 9112 §3.2: no fragment in a request-target)
  kAsterisk,             // "*" with a method other than OPTIONS (§3.2.4)
  kAuthority,            // absolute-form whose authority is not host [":" port]
  kUserinfo,             // absolute-form with "user@" (RFC 9110 §4.2.4)
  kScheme,               // absolute-form with a scheme other than http or https
  kAuthorityForm,        // host:port with a method other than CONNECT (§3.2.3)
  kConnectTarget,        // CONNECT with a target other than host:port
  kConnect,              // 501: CONNECT host:port; tsgi is no tunnel
  // Line endings, anywhere in the head or a chunked body.
  kBareCr,               // CR not followed by LF
  kBareLf,               // LF without CR
  // Field lines.
  kObsFold,              // a line starting with SP or HTAB
  kSpaceBeforeColon,     // SP or HTAB between a field name and its colon
  kFieldName,            // an empty or non-token field name, or no colon
  kFieldValue,           // NUL, another CTL or DEL in a field value
  kMissingHost,          // HTTP/1.1 without Host
  kDuplicateHost,        // more than one Host
  kContentLength,        // a Content-Length that is not a decimal number under 2^63
  kContentLengths,       // Content-Lengths that differ
  kContentLengthAndTe,   // Content-Length together with Transfer-Encoding
  kTeHttp10,             // Transfer-Encoding in an HTTP/1.0 request
  kTransferEncoding,     // a Transfer-Encoding that is not a list of codings
  kTeNotChunked,         // the last transfer coding is not chunked
  kTeChunkedTwice,       // chunked listed more than once
  kTeUnsupported,        // 501: a coding other than chunked before it
  kHeadTooLarge,         // 431: no complete head within max_head bytes
  kTooManyFields,        // 431: more than HttpRequestHead::kMaxHeaders fields
  // A chunked body.
  kChunkSize,            // a chunk-size that is not hex digits
  kChunkSizeTooLarge,    // a chunk-size over 2^63 - 1
  kChunkExtension,       // a chunk extension that is not ;name[=value] (BWS allowed)
  kChunkLineTooLong,     // a chunk-size or trailer line over ChunkedDecoder::kMaxLine
  kChunkDataEnd,         // chunk data not followed by CRLF
  kTrailer,              // a malformed trailer field line
  kCount
};

struct HttpErrorInfo {
  int status;          // 400, 431, 501 or 505; 0 for kNone
  const char* reason;  // what the log line says, e.g. "missing Host header"
};

// The status and reason of an error: a table lookup.
const HttpErrorInfo& DescribeHttpError(HttpError error);

struct HttpRequestHead {
  static constexpr size_t kMaxHeaders = 128;

  StrView method;
  StrView target;     // the request-target as sent
  StrView path;       // its path ("*" for OPTIONS *; empty for "http://host")
  StrView query;      // what follows its first "?" (data is null without a "?")
  StrView authority;  // absolute-form's host[:port], which stands for Host (RFC 9112
                      // §3.2.2); empty for the other forms
  int minor_version = 1;  // HTTP/1.<minor>; only 0 and 1 are accepted
  HeaderField headers[kMaxHeaders];
  size_t num_headers = 0;

  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;  // valid when framing == kContentLength
  bool keep_alive = true;       // from the version and the Connection header
  bool expect_continue = false; // "Expect: 100-continue" was sent
  bool upgrade = false;         // HTTP/1.1 with a non-empty Upgrade field that Connection
                                // names ("Connection: upgrade"): the client offers to
                                // switch protocols (RFC 9110 §7.8)
  bool has_host = false;        // a (single) Host header was present
  StrView host;                 // its value
};

// Parses one request head from buf[0..len).
//
// Returns the bytes consumed (the whole head, up to and including the empty line)
// when the head is complete and valid; kParseNeedMore when it is not complete yet
// and len < max_head; kParseBad when it is malformed, with *error set to why (its
// status: DescribeHttpError):
//   400  anything RFC 9112 does not allow: a bad request line, a request-target of
//        no form the method allows (a fragment, "*" but for OPTIONS, an absolute-form
//        with a bad authority, userinfo or a scheme other than http/https), a bare
//        LF or CR where CRLF is due, obsolete line folding, whitespace before a
//        colon, NUL/CR/LF in a value, a non-token field name, Content-Length together
//        with Transfer-Encoding, differing Content-Lengths, a Content-Length that is
//        not a decimal number (or overflows), a Transfer-Encoding whose last coding
//        is not chunked, Transfer-Encoding on HTTP/1.0, an HTTP/1.1 request without
//        a Host header, more than one Host header.
//   431  the head is not complete within max_head bytes, or has more than
//        kMaxHeaders fields.
//   501  a Transfer-Encoding naming a coding other than chunked (whose last coding
//        is chunked, e.g. "gzip, chunked"); CONNECT.
//   505  an HTTP version other than 1.0 and 1.1.
// The request line is judged whole (version, then target) before any field line.
// Empty lines (CRLF) before the request line are skipped, as RFC 9112 §2.2 allows;
// they count in the bytes consumed.
ssize_t ParseRequestHead(const char* buf, size_t len, size_t max_head,
                         HttpRequestHead* out, HttpError* error);

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
  // trailer field), with *consumed meaningless and error() saying why. Trailer
  // fields are checked and dropped. A chunk-size line or trailer line longer than
  // kMaxLine is bad.
  Result Feed(const char* buf, size_t len, size_t* consumed, DataFn on_data,
              void* ctx);

  // Why Feed returned kBad (HttpError::kNone before that).
  HttpError error() const { return error_; }

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
  HttpError error_ = HttpError::kNone;
  // Extensions and trailers are checked byte by byte, so nothing is buffered.
};

// Percent-decodes src (RFC 3986) into *out, byte for byte: "%XX" with two hex
// digits becomes that byte; a "%" not followed by two hex digits is kept as it is.
// "+" is not special. Never fails.
void PercentDecode(const char* src, size_t len, std::string* out);

// Judges a request-target for its method (RFC 9112 §3.2) and splits it: *path, *query
// (without the "?"; data null when there is none) and, for absolute-form
// ("http://host:port/p?q"), *authority ("host:port"). Returns kNone for origin-form,
// absolute-form with http or https, and "*" with OPTIONS (path "*"); otherwise the
// error (kConnect for a well-formed CONNECT host:port). The views point into target.
HttpError SplitTarget(StrView method, StrView target, StrView* path, StrView* query,
                      StrView* authority);

}  // namespace tsgi

#endif  // TSGI_NATIVE_HTTP_PARSER_H_
