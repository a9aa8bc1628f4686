// tsgi — a strict, pure parser and serializer of WebSocket frames (RFC 6455), the
// server's side: the frames a client sends are read, the frames a server sends are
// written. No libuv, no N-API: bytes in, "consumed n / need more / bad, with a close
// code" out, like http_parser.cc.
//
// What it holds a client to (each refusal is the close code RFC 6455 §7.4.1 names):
//   - 1002: a reserved bit set (no extension is negotiated), a reserved opcode, an
//     unmasked frame (§5.1), a control frame that is fragmented or longer than 125
//     bytes (§5.5), a 64-bit length with its top bit set, a continuation frame with no
//     message begun, a data frame inside a fragmented message (control frames are
//     allowed there, §5.4), a close frame of one byte, a close code that may not be
//     sent (§7.4: under 1000, 1004-1006, 1012-2999 except none, 1015, 5000 and up);
//   - 1007: a text message, or a close reason, that is not UTF-8 (checked frame by
//     frame, so a message fails at its first bad fragment, and across fragments);
//   - 1009: a message longer than the maximum (known from a frame's header, before its
//     payload is read).
#ifndef TSGI_NATIVE_WEBSOCKET_PARSER_H_
#define TSGI_NATIVE_WEBSOCKET_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/types.h>

#include "protocol/http_parser.h"  // kParseNeedMore, kParseBad

namespace tsgi {

// The opcodes (RFC 6455 §5.2).
constexpr uint8_t kWsContinuation = 0x0;
constexpr uint8_t kWsText = 0x1;
constexpr uint8_t kWsBinary = 0x2;
constexpr uint8_t kWsClose = 0x8;
constexpr uint8_t kWsPing = 0x9;
constexpr uint8_t kWsPong = 0xA;

// Close codes the server sends (§7.4.1). 1005 is what a close frame with no code
// reports; it never goes on the wire.
constexpr uint16_t kWsNormal = 1000;
constexpr uint16_t kWsGoingAway = 1001;
constexpr uint16_t kWsProtocolError = 1002;
constexpr uint16_t kWsNoStatus = 1005;
constexpr uint16_t kWsAbnormal = 1006;
constexpr uint16_t kWsInvalidData = 1007;
constexpr uint16_t kWsTooBig = 1009;
constexpr uint16_t kWsInternalError = 1011;

// The longest header of a server frame (2 bytes, then 8 of a 64-bit length; no mask).
constexpr size_t kWsMaxServerHeader = 10;
// The longest payload of a control frame (§5.5).
constexpr size_t kWsMaxControlPayload = 125;

// What one complete frame gave.
enum class WsEventKind : uint8_t {
  kFragment,  // a part of a fragmented message, kept: nothing to do yet
  kText,      // a whole text message, valid UTF-8
  kBinary,    // a whole binary message
  kPing,      // answer with a pong of the same payload
  kPong,
  kClose,     // close_code (1005: none given) and the reason (data, len), valid UTF-8
};

struct WsEvent {
  WsEventKind kind = WsEventKind::kFragment;
  // The message, the ping's or pong's payload, or the close reason, unmasked. It
  // points into the caller's buffer (a message of one frame, a control frame) or into
  // the parser's own (a message of several), and is valid until the next call.
  const char* data = nullptr;
  size_t len = 0;
  uint16_t close_code = 0;
};

// Why the client's frames are refused: the close code to send and a static sentence
// for the log and the close frame's reason.
struct WsError {
  uint16_t code = 0;
  const char* reason = nullptr;
};

// True for a close code a peer may send in a close frame (§7.4): 1000-1003,
// 1007-1011, 3000-4999.
bool IsWireCloseCode(uint16_t code);

// True when s[0..n) is UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// over U+10FFFF).
bool IsUtf8(const char* s, size_t n);

// The frames of one connection, in order. It keeps only what spans frames: the
// fragmented message under way (its opcode, its bytes, the UTF-8 state at its end).
class WsParser {
 public:
  // max_message: the longest message accepted, in bytes (--websocket-max-size).
  explicit WsParser(uint64_t max_message) : max_message_(max_message) {}

  // Parses the frame at the start of buf[0..len), the first byte not consumed yet.
  //
  // Returns the bytes the frame takes, with *ev set to what it gave, once the whole
  // frame is there (its payload is then unmasked in place: buf is written); returns
  // kParseNeedMore while it is not, with nothing changed (so the caller may call again
  // with more bytes appended); returns kParseBad, with *err set, as soon as the bytes
  // cannot be a valid frame, or the frame ends a message that is not valid: the
  // connection is then to be closed with err->code. After kParseBad or a kClose event
  // the parser is not to be called again.
  ssize_t Next(char* buf, size_t len, WsEvent* ev, WsError* err);

  // True while a fragmented message is under way.
  bool InMessage() const { return opcode_ != 0; }

 private:
  uint64_t max_message_;
  uint8_t opcode_ = 0;       // kWsText or kWsBinary while a fragmented message is under way
  std::string message_;      // its bytes so far
  uint32_t utf8_state_ = 0;  // the UTF-8 check's state at the end of message_ (text)
  bool delivered_ = false;   // message_ was given out whole: cleared at the next call
};

// Writes the header of a server frame (FIN set, unmasked) for a payload of len bytes
// into out, which has room for kWsMaxServerHeader bytes; returns its length (2, 4 or
// 10).
size_t WriteWsFrameHeader(uint8_t opcode, uint64_t len, char* out);

// Writes the payload of a close frame into out (room for 125 bytes): the code, then
// as much of the reason as fits in 123 bytes, cut at a character's boundary. Returns
// its length. A code of kWsNoStatus writes an empty payload.
size_t WriteWsClosePayload(uint16_t code, const char* reason, size_t reason_len, char* out);

}  // namespace tsgi

#endif  // TSGI_NATIVE_WEBSOCKET_PARSER_H_
