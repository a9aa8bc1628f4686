// tsgi — WebSocket frames (RFC 6455), the server's side. See websocket_parser.h.
#include "protocol/websocket_parser.h"

#include <cstring>

namespace tsgi {

namespace {

// The UTF-8 check's state between calls: 0 between characters, else the continuation
// bytes still needed (bits 16-17) and the range the next one must be in (lo: bits 8-15,
// hi: 0-7), which is narrower than 80-BF only right after E0, ED, F0 and F4 (RFC 3629
// §4: no overlong forms, no surrogates, nothing over U+10FFFF).
constexpr uint32_t kUtf8Bad = 0xFFFFFFFFu;

uint32_t Utf8Feed(uint32_t state, const uint8_t* p, size_t n) {
  uint32_t need = state >> 16;
  uint32_t lo = (state >> 8) & 0xFF;
  uint32_t hi = state & 0xFF;
  size_t i = 0;
  while (i < n) {
    if (need == 0) {
      // ASCII eight bytes at a time: most text is.
      while (i + 8 <= n) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        if ((w & 0x8080808080808080ULL) != 0) break;
        i += 8;
      }
      if (i == n) break;
      const uint8_t c = p[i++];
      if (c < 0x80) continue;
      if (c < 0xC2) return kUtf8Bad;  // a continuation byte, or an overlong C0/C1
      if (c < 0xE0) {
        need = 1;
        lo = 0x80;
        hi = 0xBF;
      } else if (c < 0xF0) {
        need = 2;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
      } else if (c < 0xF5) {
        need = 3;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
      } else {
        return kUtf8Bad;
      }
    } else {
      const uint8_t c = p[i++];
      if (c < lo || c > hi) return kUtf8Bad;
      --need;
      lo = 0x80;
      hi = 0xBF;
    }
  }
  return need == 0 ? 0 : (need << 16) | (lo << 8) | hi;
}

ssize_t Bad(WsError* err, uint16_t code, const char* reason) {
  err->code = code;
  err->reason = reason;
  return kParseBad;
}

void Unmask(char* p, uint64_t n, const uint8_t mask[4]) {
  uint64_t i = 0;
  if (n >= 8) {
    uint32_t m32;
    std::memcpy(&m32, mask, 4);
    const uint64_t m64 = (static_cast<uint64_t>(m32) << 32) | m32;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      w ^= m64;
      std::memcpy(p + i, &w, 8);
    }
  }
  for (; i < n; ++i) p[i] = static_cast<char>(static_cast<uint8_t>(p[i]) ^ mask[i & 3]);
}

}  // namespace

bool IsWireCloseCode(uint16_t code) {
  // RFC 6455 §7.4.1 and IANA's registry (1012-1014 added there), as ws and browsers take them.
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

bool IsUtf8(const char* s, size_t n) {
  return Utf8Feed(0, reinterpret_cast<const uint8_t*>(s), n) == 0;
}

ssize_t WsParser::Next(char* buf, size_t len, WsEvent* ev, WsError* err) {
  if (delivered_) {
    // The message of several frames given last time is done with.
    delivered_ = false;
    message_.clear();
    if (message_.capacity() > 65536) message_.shrink_to_fit();
  }
  const uint8_t* u = reinterpret_cast<const uint8_t*>(buf);
  if (len < 1) return kParseNeedMore;
  const uint8_t b0 = u[0];
  const bool fin = (b0 & 0x80) != 0;
  const uint8_t op = b0 & 0x0F;
  const bool control = (op & 0x08) != 0;
  if ((b0 & 0x70) != 0) return Bad(err, kWsProtocolError, "a reserved bit is set");
  if ((op > kWsBinary && op < kWsClose) || op > kWsPong) {
    return Bad(err, kWsProtocolError, "a reserved opcode");
  }
  if (control && !fin) return Bad(err, kWsProtocolError, "a fragmented control frame");
  if (op == kWsContinuation && opcode_ == 0) {
    return Bad(err, kWsProtocolError, "a continuation frame with no message begun");
  }
  if ((op == kWsText || op == kWsBinary) && opcode_ != 0) {
    return Bad(err, kWsProtocolError, "a new message inside a fragmented one");
  }
  if (len < 2) return kParseNeedMore;
  const uint8_t b1 = u[1];
  if ((b1 & 0x80) == 0) return Bad(err, kWsProtocolError, "an unmasked frame");
  uint64_t plen = b1 & 0x7F;
  size_t hlen = 2;
  if (plen >= 126 && control) {
    return Bad(err, kWsProtocolError, "a control frame longer than 125 bytes");
  }
  if (plen == 126) {
    if (len < 4) return kParseNeedMore;
    plen = (static_cast<uint64_t>(u[2]) << 8) | u[3];
    hlen = 4;
  } else if (plen == 127) {
    if (len < 10) return kParseNeedMore;
    plen = 0;
    for (int i = 2; i < 10; ++i) plen = (plen << 8) | u[i];
    if ((plen >> 63) != 0) return Bad(err, kWsProtocolError, "a 64-bit length with its top bit set");
    hlen = 10;
  }
  if (!control) {
    const uint64_t so_far = opcode_ != 0 ? message_.size() : 0;
    if (plen > max_message_ - so_far) {
      return Bad(err, kWsTooBig, "a message longer than the maximum size");
    }
  }
  if (len < hlen + 4) return kParseNeedMore;
  uint8_t mask[4];
  std::memcpy(mask, u + hlen, 4);
  hlen += 4;
  if (len - hlen < plen) return kParseNeedMore;

  // The whole frame is here.
  char* p = buf + hlen;
  const size_t n = static_cast<size_t>(plen);
  Unmask(p, plen, mask);
  const ssize_t consumed = static_cast<ssize_t>(hlen + n);
  const uint8_t* pu = reinterpret_cast<const uint8_t*>(p);
  ev->data = p;
  ev->len = n;
  ev->close_code = 0;
  if (control) {
    if (op == kWsPing) {
      ev->kind = WsEventKind::kPing;
    } else if (op == kWsPong) {
      ev->kind = WsEventKind::kPong;
    } else {
      ev->kind = WsEventKind::kClose;
      if (n == 0) {
        ev->close_code = kWsNoStatus;
      } else if (n == 1) {
        return Bad(err, kWsProtocolError, "a close frame of one byte");
      } else {
        const uint16_t code = static_cast<uint16_t>((pu[0] << 8) | pu[1]);
        if (!IsWireCloseCode(code)) return Bad(err, kWsProtocolError, "a close code that may not be sent");
        if (!IsUtf8(p + 2, n - 2)) return Bad(err, kWsInvalidData, "a close reason that is not UTF-8");
        ev->close_code = code;
        ev->data = p + 2;
        ev->len = n - 2;
      }
    }
    return consumed;
  }
  if (op != kWsContinuation) {
    // A new message.
    if (fin) {
      if (op == kWsText && !IsUtf8(p, n)) {
        return Bad(err, kWsInvalidData, "a text message that is not UTF-8");
      }
      ev->kind = op == kWsText ? WsEventKind::kText : WsEventKind::kBinary;
      return consumed;
    }
    if (op == kWsText) {
      utf8_state_ = Utf8Feed(0, pu, n);
      if (utf8_state_ == kUtf8Bad) return Bad(err, kWsInvalidData, "a text message that is not UTF-8");
    }
    opcode_ = op;
    message_.assign(p, n);
    ev->kind = WsEventKind::kFragment;
    return consumed;
  }
  // A continuation of the message under way.
  if (opcode_ == kWsText) {
    utf8_state_ = Utf8Feed(utf8_state_, pu, n);
    if (utf8_state_ == kUtf8Bad || (fin && utf8_state_ != 0)) {
      return Bad(err, kWsInvalidData, "a text message that is not UTF-8");
    }
  }
  message_.append(p, n);
  if (!fin) {
    ev->kind = WsEventKind::kFragment;
    return consumed;
  }
  ev->kind = opcode_ == kWsText ? WsEventKind::kText : WsEventKind::kBinary;
  ev->data = message_.data();
  ev->len = message_.size();
  opcode_ = 0;
  utf8_state_ = 0;
  delivered_ = true;
  return consumed;
}

size_t WriteWsFrameHeader(uint8_t opcode, uint64_t len, char* out) {
  uint8_t* o = reinterpret_cast<uint8_t*>(out);
  o[0] = static_cast<uint8_t>(0x80 | opcode);
  if (len < 126) {
    o[1] = static_cast<uint8_t>(len);
    return 2;
  }
  if (len <= 0xFFFF) {
    o[1] = 126;
    o[2] = static_cast<uint8_t>(len >> 8);
    o[3] = static_cast<uint8_t>(len);
    return 4;
  }
  o[1] = 127;
  for (int i = 0; i < 8; ++i) o[2 + i] = static_cast<uint8_t>(len >> (56 - 8 * i));
  return 10;
}

size_t WriteWsClosePayload(uint16_t code, const char* reason, size_t reason_len, char* out) {
  if (code == kWsNoStatus) return 0;
  out[0] = static_cast<char>(code >> 8);
  out[1] = static_cast<char>(code & 0xFF);
  size_t n = reason_len < kWsMaxControlPayload - 2 ? reason_len : kWsMaxControlPayload - 2;
  // Cut at a character's boundary: not before a continuation byte.
  if (n < reason_len) {
    while (n > 0 && (static_cast<uint8_t>(reason[n]) & 0xC0) == 0x80) --n;
  }
  if (n > 0) std::memcpy(out + 2, reason, n);
  return 2 + n;
}

}  // namespace tsgi
