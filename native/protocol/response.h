// tsgi — HTTP/1.1 response framing: the status line's prefix, the lines that frame a
// response (Content-Length, Transfer-Encoding, Connection), chunks, and the server's
// own refusals. Pure: appends bytes to a string, no libuv, no N-API; what to frame is
// decided from send()'s flags and the request (FramingOf), the bytes follow from that.
//
// The application's part of a head comes from lib/ as "STATUS reason\r\n" followed by
// its header lines ("Name: value\r\n"), already checked there: HEAD, 1xx, 204 and 304
// responses reach this file with no body and without kSendAddLength or kSendChunked
// (lib/exchange.ts takeHead), so that they carry no framing but Connection.
#ifndef TSGI_NATIVE_RESPONSE_H_
#define TSGI_NATIVE_RESPONSE_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace tsgi {

// How one response head is framed.
struct Framing {
  bool add_length = false;  // "Content-Length: N", N the body given with the head
  bool chunked = false;     // "Transfer-Encoding: chunked": the body follows in chunks
  bool close = false;       // "Connection: close": the connection ends with the response
  bool http10 = false;      // an HTTP/1.0 request: a kept connection says "keep-alive"
};

// The framing that send(flags) asks for a request (keep_alive, http10: what its head
// said; closing: the server is closing, so every response closes its connection).
Framing FramingOf(uint32_t send_flags, bool keep_alive, bool http10, bool closing);

// What the log line and the scoreboard keep of a response head.
struct HeadFacts {
  int status = 0;           // the three digits, or 0 for a head too short to have them
  size_t header_count = 0;  // header lines, the framing lines included
  size_t head_bytes = 0;    // the head's bytes, status line and the empty line included
};

// Appends "HTTP/1.1 ", the start of a status line, and returns the size *out had
// before: the head's start, for EndHead. The caller appends the application's part.
size_t BeginHead(std::string* out);

// Ends the head that began at out[start] (BeginHead, then the application's part):
// appends the framing lines f asks for (content_length: the body's length, used with
// f.add_length) and the empty line. Returns the head's facts.
HeadFacts EndHead(std::string* out, size_t start, const Framing& f, uint64_t content_length);

// Appends one chunk of chunked coding: its size in hex, the bytes, CRLF. Nothing for an
// empty chunk: an empty chunk would end the body (AppendLastChunk does that).
void AppendChunk(std::string* out, const char* data, size_t len);

// Appends the chunk that ends a chunked body ("0\r\n\r\n": no trailers).
void AppendLastChunk(std::string* out);

// The interim response to "Expect: 100-continue".
constexpr char kContinueResponse[] = "HTTP/1.1 100 Continue\r\n\r\n";

// The reason phrase of a status the server refuses with (400, 408, 413, 431, 500,
// 501, 505); "Error" for any other.
const char* RefusalText(int status);

// Appends the server's own answer to a request it refuses: status, a text/plain body
// naming it, and "Connection: close" (the rest of the request is left unread).
void AppendRefusal(std::string* out, int status);

// Appends n in decimal.
void AppendDecimal(std::string* out, uint64_t n);

}  // namespace tsgi

#endif  // TSGI_NATIVE_RESPONSE_H_
