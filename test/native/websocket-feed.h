// The WebSocket parser's tests' driver, shared by websocket-test.cc and
// fuzz-websocket.cc: bytes fed to a WsParser as a server reads them, and what that gave.
#ifndef TSGI_TEST_NATIVE_WEBSOCKET_FEED_H_
#define TSGI_TEST_NATIVE_WEBSOCKET_FEED_H_

#include "protocol/websocket_parser.h"
#include "support.h"

namespace tsgi {
namespace test {

inline GuardBuffer g_ws_buf(1 << 17);

inline const char* KindName(tsgi::WsEventKind k) {
  switch (k) {
    case tsgi::WsEventKind::kText: return "text";
    case tsgi::WsEventKind::kBinary: return "binary";
    case tsgi::WsEventKind::kPing: return "ping";
    case tsgi::WsEventKind::kPong: return "pong";
    case tsgi::WsEventKind::kClose: return "close";
    case tsgi::WsEventKind::kFragment: return "fragment";
  }
  return "?";
}

inline std::string Hex(const char* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    s += kDigits[c >> 4];
    s += kDigits[c & 15];
  }
  return s;
}

// What a run gave: the events (fragments left out: nothing to do), then the end.
struct Outcome {
  std::vector<std::string> events;  // "kind code hex"
  bool bad = false;
  unsigned code = 0;
  std::string reason;
  size_t consumed = 0;

  bool operator==(const Outcome& o) const {
    return events == o.events && bad == o.bad && code == o.code && reason == o.reason &&
           (bad || consumed == o.consumed);
  }
  std::string Describe() const {
    std::string s;
    for (const auto& e : events) s += "[" + e + "] ";
    char b[256];
    if (bad) {
      snprintf(b, sizeof b, "bad %u: %s", code, reason.c_str());
    } else {
      snprintf(b, sizeof b, "consumed %zu", consumed);
    }
    return s + b;
  }
};

inline std::string EventText(const char* kind, unsigned code, const std::string& hex) {
  char b[64];
  snprintf(b, sizeof b, "%s %u ", kind, code);
  return b + hex;
}

// Feeds input in pieces ending at each offset of cuts (the last piece ends at its end).
inline Outcome Feed(const std::string& input, uint64_t max_message, const std::vector<size_t>& cuts) {
  tsgi::WsParser parser(max_message);
  Outcome o;
  std::string pending;  // received and not consumed
  size_t at = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t end = i < cuts.size() ? cuts[i] : input.size();
    pending.append(input, at, end - at);
    at = end;
    for (;;) {
      // The parser writes (unmasks) the frame where it lies: a copy each time.
      char* buf = const_cast<char*>(g_ws_buf.Put(pending.data(), pending.size()));
      tsgi::WsEvent ev;
      tsgi::WsError err;
      const ssize_t rc = parser.Next(buf, pending.size(), &ev, &err);
      if (rc == tsgi::kParseNeedMore) break;
      if (rc == tsgi::kParseBad) {
        o.bad = true;
        o.code = err.code;
        o.reason = err.reason != nullptr ? err.reason : "(null)";
        return o;
      }
      if (rc <= 0 || static_cast<size_t>(rc) > pending.size()) {
        o.bad = true;
        o.reason = "consumed out of range";
        return o;
      }
      if (ev.kind != tsgi::WsEventKind::kFragment) {
        o.events.push_back(EventText(KindName(ev.kind), ev.close_code, Hex(ev.data, ev.len)));
      }
      pending.erase(0, static_cast<size_t>(rc));
      o.consumed += static_cast<size_t>(rc);
      if (ev.kind == tsgi::WsEventKind::kClose) return o;  // the parser is not called again
    }
  }
  return o;
}

}  // namespace test
}  // namespace tsgi

#endif  // TSGI_TEST_NATIVE_WEBSOCKET_FEED_H_
