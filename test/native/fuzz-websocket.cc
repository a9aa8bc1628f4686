// A fuzz target for native/protocol/websocket_parser.cc.
//
// With libFuzzer (clang):
//   clang++ -Inative -Itest/native -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined
//     -DTSGI_LIBFUZZER native/protocol/websocket_parser.cc test/native/fuzz-websocket.cc
//     -o fuzz-websocket
//   ./fuzz-websocket test/websocket/valid test/websocket/invalid
//
// Without it (g++): the standalone driver of support.h mutates the corpus files (*.bin)
// for FUZZ_SECONDS seconds (default 5).
//
// The input's first byte picks the maximum message size (0 to 255 bytes, or 1 MiB);
// the rest is fed as a server reads it, each parse ending right before a PROT_NONE
// page. Checked: an error is one of 1002, 1007, 1009 with a sentence; a text message
// and a close reason are UTF-8; a close code is one a peer may send, or 1005; no message
// is longer than the maximum; a control frame's payload is at most 125 bytes; and fed in
// two pieces at a few offsets drawn from the input, or a byte at a time, the input gives
// the same events and end.
#include <string>
#include <vector>

#include "support.h"
#include "websocket-feed.h"

using tsgi::test::Feed;
using tsgi::test::Outcome;
using tsgi::test::Rng;

namespace {

bool IsHexUtf8(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return tsgi::IsUtf8(bytes.data(), bytes.size());
}

void CheckOutcome(const Outcome& o, uint64_t max) {
  if (o.bad) {
    FCHECK(o.code == 1002 || o.code == 1007 || o.code == 1009, o.code);
    FCHECK(!o.reason.empty() && o.reason != "consumed out of range", 0);
  }
  for (const std::string& e : o.events) {
    // "kind code hex"
    const size_t sp1 = e.find(' ');
    const size_t sp2 = e.find(' ', sp1 + 1);
    const std::string kind = e.substr(0, sp1);
    const unsigned code = static_cast<unsigned>(std::stoul(e.substr(sp1 + 1, sp2 - sp1 - 1)));
    const std::string hex = e.substr(sp2 + 1);
    if (kind == "text" || kind == "binary") FCHECK(hex.size() / 2 <= max, hex.size() / 2);
    if (kind == "text" || kind == "close") FCHECK(IsHexUtf8(hex), 0);
    if (kind == "ping" || kind == "pong") FCHECK(hex.size() / 2 <= 125, hex.size() / 2);
    if (kind == "close") FCHECK(code == 1005 || tsgi::IsWireCloseCode(static_cast<uint16_t>(code)), code);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tsgi::test::BeginInput(data, size, "fuzz-failure.ws");
  if (size == 0) {
    tsgi::test::EndInput();
    return 0;
  }
  const uint64_t max = data[0] == 0xFF ? (1u << 20) : data[0];
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Outcome whole = Feed(input, max, {});
  CheckOutcome(whole, max);
  FCHECK(whole.consumed <= input.size(), whole.consumed);
  Rng r{tsgi::test::Hash(data, size) | 1};
  for (int i = 0; i < 4; ++i) {
    const size_t k = r.Below(input.size() + 1);
    FCHECK(Feed(input, max, {k}) == whole, k);
  }
  if (input.size() <= 512) {
    std::vector<size_t> bytes;
    for (size_t k = 1; k < input.size(); ++k) bytes.push_back(k);
    FCHECK(Feed(input, max, bytes) == whole, 0);
  }
  tsgi::test::EndInput();
  return 0;
}

#ifndef TSGI_LIBFUZZER
namespace {

const char kInteresting[] = "\x00\x01\x02\x08\x09\x0a\x80\x81\x82\x88\x89\x8a\x7d\x7e\x7f\xfe\xff\xc0\xce\xe0\xed\xf0\xf4";

void OwnMutation(size_t which, size_t pos, std::string* str, Rng* r) {
  std::string& s = *str;
  switch (which) {
    case 2:  // insert bytes
      tsgi::test::InsertInteresting(&s, pos, r, kInteresting, sizeof kInteresting - 1);
      break;
    case 4:  // another maximum size
      if (!s.empty()) s[0] = static_cast<char>(r->Below(256));
      break;
    case 5:  // append a masked frame of a random opcode, flags and length form
      {
        const size_t n = r->Below(140);
        std::string f;
        f += static_cast<char>(r->Below(256));
        const size_t form = r->Below(3);
        if (form == 0 && n < 126) {
          f += static_cast<char>(0x80 | n);
        } else if (form == 1 || n >= 126) {
          f += static_cast<char>(0x80 | 126);
          f += static_cast<char>(n >> 8);
          f += static_cast<char>(n & 0xFF);
        } else {
          f += static_cast<char>(0x80 | 127);
          f.append(6, '\0');
          f += static_cast<char>(n >> 8);
          f += static_cast<char>(n & 0xFF);
        }
        for (int i = 0; i < 4; ++i) f += static_cast<char>(r->Below(256));
        for (size_t i = 0; i < n; ++i) f += static_cast<char>(r->Below(256));
        s += f;
      }
      break;
  }
}

// A corpus file's bytes, behind a byte that picks the maximum size (1 MiB, or a small
// one a fifth of the time so that 1009 is reached), mutated.
std::string Mutate(std::string s, const std::vector<std::string>& seeds, Rng* r) {
  const char max = r->Below(5) == 0 ? static_cast<char>(r->Below(255)) : '\xff';
  return tsgi::test::MutateBytes(max + s, seeds, kInteresting, sizeof kInteresting - 1, OwnMutation, r);
}

}  // namespace

int main(int argc, char** argv) {
  return tsgi::test::FuzzMain(argc, argv, {"websocket fuzz", ".bin", 5, Mutate});
}
#endif  // TSGI_LIBFUZZER
