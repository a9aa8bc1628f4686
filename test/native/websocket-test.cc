// Tests for native/protocol/websocket_parser.cc against the corpus in test/websocket
// (made by its gen-corpus.py: NAME.bin, with NAME.json beside it), plus unit tests of
// the serializer and the UTF-8 check.
//
//   websocket-test test/websocket
//
// Each case is fed as a server reads it: bytes arrive in pieces, every complete frame is
// parsed where it lies, and what is not consumed is kept and parsed again with the next
// piece. Fed whole, then in two pieces at every offset, then a byte at a time, a case
// must give the same events and the same end (the bytes consumed, or the error). Every
// parse sees its bytes end right before a PROT_NONE page, so reading past them crashes.
#include "protocol/websocket_parser.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "support.h"
#include "websocket-feed.h"

using tsgi::WsError;
using tsgi::WsEvent;
using tsgi::WsEventKind;
using tsgi::WsParser;
using tsgi::test::EventText;
using tsgi::test::Feed;
using tsgi::test::g_ws_buf;
using tsgi::test::Outcome;
using tsgi::test::Json;

namespace {

Outcome Expected(const Json& exp) {
  Outcome o;
  if (const Json* events = exp.Get("events")) {
    for (const Json& e : events->arr) {
      o.events.push_back(EventText(e.Get("kind")->str.c_str(),
                                   static_cast<unsigned>(e.NumOr("code", 0)),
                                   e.Get("data")->str));
    }
  }
  if (const Json* err = exp.Get("error")) {
    o.bad = true;
    o.code = static_cast<unsigned>(err->NumOr("code", 0));
    o.reason = err->Get("reason")->str;
  } else {
    o.consumed = static_cast<size_t>(exp.NumOr("consumed", 0));
  }
  return o;
}

void RunCase(const std::string& input, const Json& exp, std::vector<std::string>* fails) {
  const uint64_t max = exp.NumOr("max_message", 1 << 20);
  const Outcome want = Expected(exp);
  const Outcome whole = Feed(input, max, {});
  FAIL_IF(!(whole == want), "whole: got %s, want %s", whole.Describe().c_str(),
          want.Describe().c_str());
  for (size_t k = 0; k <= input.size(); ++k) {
    const Outcome split = Feed(input, max, {k});
    FAIL_IF(!(split == whole), "split at %zu: got %s, want %s", k, split.Describe().c_str(),
            whole.Describe().c_str());
  }
  std::vector<size_t> bytes;
  for (size_t k = 1; k < input.size(); ++k) bytes.push_back(k);
  const Outcome by_byte = Feed(input, max, bytes);
  FAIL_IF(!(by_byte == whole), "byte by byte: got %s, want %s", by_byte.Describe().c_str(),
          whole.Describe().c_str());
}

void UnitTests() {
  char h[tsgi::kWsMaxServerHeader];
  // The three length forms, at their edges.
  CHECK(tsgi::WriteWsFrameHeader(tsgi::kWsText, 0, h) == 2 && h[0] == '\x81' && h[1] == 0);
  CHECK(tsgi::WriteWsFrameHeader(tsgi::kWsBinary, 125, h) == 2 && h[0] == '\x82' && h[1] == 125);
  CHECK(tsgi::WriteWsFrameHeader(tsgi::kWsBinary, 126, h) == 4 && h[1] == 126 && h[2] == 0 &&
        h[3] == 126);
  CHECK(tsgi::WriteWsFrameHeader(tsgi::kWsBinary, 65535, h) == 4 && h[2] == '\xff' && h[3] == '\xff');
  CHECK(tsgi::WriteWsFrameHeader(tsgi::kWsBinary, 65536, h) == 10 && h[1] == 127 &&
        std::memcmp(h + 2, "\0\0\0\0\0\x01\0\0", 8) == 0);
  CHECK(tsgi::WriteWsFrameHeader(tsgi::kWsPong, 3, h) == 2 && h[0] == '\x8a');
  CHECK(tsgi::WriteWsFrameHeader(tsgi::kWsClose, 2, h) == 2 && h[0] == '\x88');

  char c[tsgi::kWsMaxControlPayload];
  CHECK(tsgi::WriteWsClosePayload(tsgi::kWsNoStatus, "x", 1, c) == 0);
  CHECK(tsgi::WriteWsClosePayload(1001, "", 0, c) == 2 && c[0] == '\x03' && c[1] == '\xe9');
  CHECK(tsgi::WriteWsClosePayload(1009, "big", 3, c) == 5 && std::memcmp(c + 2, "big", 3) == 0);
  // A long reason is cut to 123 bytes, at a character's boundary.
  std::string reason(122, 'r');
  reason += "\xce\xba";  // κ straddles byte 123
  CHECK(tsgi::WriteWsClosePayload(1000, reason.data(), reason.size(), c) == 124);
  reason.assign(200, 'r');
  CHECK(tsgi::WriteWsClosePayload(1000, reason.data(), reason.size(), c) == 125);

  // What the server writes, the parser reads back (once masked as a client would).
  for (uint64_t n : {0ull, 5ull, 125ull, 126ull, 1000ull, 65535ull, 65536ull, 70000ull}) {
    std::string frame(tsgi::kWsMaxServerHeader, '\0');
    frame.resize(tsgi::WriteWsFrameHeader(tsgi::kWsBinary, n, &frame[0]));
    frame[1] = static_cast<char>(frame[1] | 0x80);
    frame.append("\x01\x02\x03\x04", 4);
    for (uint64_t i = 0; i < n; ++i) frame += static_cast<char>((i & 0x7f) ^ (1 + (i & 3)));
    WsParser parser(1 << 20);
    WsEvent ev;
    WsError err;
    char* buf = const_cast<char*>(g_ws_buf.Put(frame.data(), frame.size()));
    CHECK(parser.Next(buf, frame.size(), &ev, &err) == static_cast<ssize_t>(frame.size()));
    bool same = ev.kind == WsEventKind::kBinary && ev.len == n;
    for (uint64_t i = 0; same && i < n; ++i) same = ev.data[i] == static_cast<char>(i & 0x7f);
    CHECK(same);
  }

  // Close codes a peer may send (RFC 6455 §7.4, and IANA's 1012-1014).
  CHECK(tsgi::IsWireCloseCode(1000) && tsgi::IsWireCloseCode(1003) && tsgi::IsWireCloseCode(1007) &&
        tsgi::IsWireCloseCode(1011) && tsgi::IsWireCloseCode(1012) && tsgi::IsWireCloseCode(1014) &&
        tsgi::IsWireCloseCode(3000) && tsgi::IsWireCloseCode(4999));
  CHECK(!tsgi::IsWireCloseCode(999) && !tsgi::IsWireCloseCode(1004) && !tsgi::IsWireCloseCode(1005) &&
        !tsgi::IsWireCloseCode(1006) && !tsgi::IsWireCloseCode(1015) &&
        !tsgi::IsWireCloseCode(2999) && !tsgi::IsWireCloseCode(5000));

  // The UTF-8 check against a decoder written the plain way, over every code point's
  // encoding and every 1- and 2-byte string, and every 3-byte string with a lead byte.
  CHECK(tsgi::IsUtf8("", 0));
  bool agree = true;
  for (unsigned a = 0; a < 256 && agree; ++a) {
    const char s1[1] = {static_cast<char>(a)};
    agree = tsgi::IsUtf8(s1, 1) == (a < 0x80);
    for (unsigned b = 0; b < 256 && agree; ++b) {
      const char s2[2] = {static_cast<char>(a), static_cast<char>(b)};
      const bool two = (a < 0x80 && b < 0x80) || (a >= 0xC2 && a <= 0xDF && b >= 0x80 && b <= 0xBF);
      agree = tsgi::IsUtf8(s2, 2) == two;
    }
  }
  CHECK(agree);
  agree = true;
  for (unsigned a = 0xE0; a < 0xF0 && agree; ++a) {
    for (unsigned b = 0; b < 256 && agree; ++b) {
      for (unsigned d = 0x70; d < 0xC8 && agree; ++d) {
        const char s3[3] = {static_cast<char>(a), static_cast<char>(b), static_cast<char>(d)};
        const unsigned cp = ((a & 0x0F) << 12) | ((b & 0x3F) << 6) | (d & 0x3F);
        const bool ok = b >= 0x80 && b <= 0xBF && d >= 0x80 && d <= 0xBF && cp >= 0x800 &&
                        !(cp >= 0xD800 && cp <= 0xDFFF);
        agree = tsgi::IsUtf8(s3, 3) == ok;
      }
    }
  }
  CHECK(agree);
  agree = true;
  for (unsigned cp = 0x10000; cp <= 0x110000 && agree; cp += 0x3F) {
    const char s4[4] = {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
                        static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
    agree = tsgi::IsUtf8(s4, 4) == (cp <= 0x10FFFF);
  }
  CHECK(agree);
}

}  // namespace

int main(int argc, char** argv) {
  return tsgi::test::CorpusTestMain(
      argc, argv, {"websocket: ", "test/websocket", ".bin", RunCase, RunCase, UnitTests});
}
