// tsgi — HTTP/1.1 response framing: the status line's prefix, the lines that frame a
// response (Content-Length, Transfer-Encoding, Connection), chunks, and the server's
// own refusals. Pure: appends bytes to a string, no libuv, no N-API; what to frame is
// decided from send()'s flags and the request (FramingOf), the bytes follow from that.
// What every response passes through is defined here, inline, so that it compiles into
// native/server/send.cc as it did when it was written there; the refusals, rarer, are in
// response.cc.
//
// The application's part of a head comes from lib/ as "STATUS reason\r\n" followed by
// its header lines ("Name: value\r\n"), already checked there: HEAD, 1xx, 204 and 304
// responses reach this file with no body and without kSendAddLength or kSendChunked
// (lib/contract/exchange.ts takeHead), so that they carry no framing but Connection.
#ifndef TSGI_NATIVE_RESPONSE_H_
#define TSGI_NATIVE_RESPONSE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "wire.h"

namespace tsgi {

// Appends n in decimal.
inline void AppendDecimal(std::string* out, uint64_t n) {
  char buf[24];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  out->append(p, static_cast<size_t>(buf + sizeof buf - p));
}

// Appends n in hexadecimal (lower case), as a chunk's size is written.
inline void AppendHex(std::string* out, uint64_t n) {
  static const char kDigits[] = "0123456789abcdef";
  char buf[24];
  char* p = buf + sizeof buf;
  do {
    *--p = kDigits[n & 15];
    n >>= 4;
  } while (n != 0);
  out->append(p, static_cast<size_t>(buf + sizeof buf - p));
}

// How one response head is framed.
struct Framing {
  bool add_length = false;  // "Content-Length: N", N the body given with the head
  bool chunked = false;     // "Transfer-Encoding: chunked": the body follows in chunks
  bool close = false;       // "Connection: close": the connection ends with the response
  bool http10 = false;      // an HTTP/1.0 request: a kept connection says "keep-alive"
};

// The framing that send(flags) asks for a request (keep_alive, http10: what its head
// said; closing: the server is closing, so every response closes its connection).
inline Framing FramingOf(uint32_t send_flags, bool keep_alive, bool http10, bool closing) {
  Framing f;
  f.add_length = (send_flags & kSendAddLength) != 0;
  f.chunked = (send_flags & kSendChunked) != 0;
  f.close = (send_flags & kSendClose) != 0 || !keep_alive || closing;
  f.http10 = http10;
  return f;
}

// What the log line and the scoreboard keep of a response head.
struct HeadFacts {
  int status = 0;           // the three digits, or 0 for a head too short to have them
  size_t header_count = 0;  // header lines, the framing lines included
  size_t head_bytes = 0;    // the head's bytes, status line and the empty line included
};

// Appends "HTTP/1.1 ", the start of a status line, and returns the size *out had
// before: the head's start, for EndHead. The caller appends the application's part.
inline size_t BeginHead(std::string* out) {
  const size_t start = out->size();
  out->append("HTTP/1.1 ", 9);
  return start;
}

// Ends the head that began at out[start] (BeginHead, then the application's part):
// appends the framing lines f asks for (content_length: the body's length, used with
// f.add_length) and the empty line. Returns the head's facts.
inline HeadFacts EndHead(std::string* out, size_t start, const Framing& f,
                         uint64_t content_length) {
  HeadFacts facts;
  const size_t at = start + 9;  // after "HTTP/1.1 "
  const size_t len = out->size() - at;
  const char* h = out->data() + at;
  facts.status = len >= 3 ? (h[0] - '0') * 100 + (h[1] - '0') * 10 + (h[2] - '0') : 0;
  size_t lines = 0;
  for (const char* p = h;
       (p = static_cast<const char*>(std::memchr(p, '\n', len - static_cast<size_t>(p - h))));
       p++) {
    lines++;
  }
  facts.header_count = lines > 0 ? lines - 1 : 0;  // the status line is not a header
  if (f.add_length) {
    out->append("Content-Length: ", 16);
    AppendDecimal(out, content_length);
    out->append("\r\n", 2);
    facts.header_count++;
  }
  if (f.chunked) {
    out->append("Transfer-Encoding: chunked\r\n", 28);
    facts.header_count++;
  }
  if (f.close) {
    out->append("Connection: close\r\n", 19);
    facts.header_count++;
  } else if (f.http10) {
    out->append("Connection: keep-alive\r\n", 24);
    facts.header_count++;
  }
  out->append("\r\n", 2);
  facts.head_bytes = out->size() - start;
  return facts;
}

// Appends one chunk of chunked coding: its size in hex, the bytes, CRLF. Nothing for an
// empty chunk: an empty chunk would end the body (AppendLastChunk does that).
inline void AppendChunk(std::string* out, const char* data, size_t len) {
  if (len == 0) return;
  AppendHex(out, len);
  out->append("\r\n", 2);
  out->append(data, len);
  out->append("\r\n", 2);
}

// Appends the chunk that ends a chunked body ("0\r\n\r\n": no trailers).
inline void AppendLastChunk(std::string* out) { out->append("0\r\n\r\n", 5); }

// The interim response to "Expect: 100-continue".
constexpr char kContinueResponse[] = "HTTP/1.1 100 Continue\r\n\r\n";

// The reason phrase of a status the server refuses with (400, 408, 413, 431, 500,
// 501, 505); "Error" for any other.
const char* RefusalText(int status);

// Appends the server's own answer to a request it refuses: status, a text/plain body
// naming it, and "Connection: close" (the rest of the request is left unread).
void AppendRefusal(std::string* out, int status);


}  // namespace tsgi

#endif  // TSGI_NATIVE_RESPONSE_H_
