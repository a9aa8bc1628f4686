// A fuzz target for native/protocol/proxy_parser.cc.
//
// With libFuzzer (clang):
//   clang++ -Inative -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -DTSGI_LIBFUZZER
//     native/protocol/proxy_parser.cc test/native/fuzz-proxy.cc -o fuzz-proxy
//   ./fuzz-proxy test/requests/proxy/valid test/requests/proxy/invalid
//
// Without it (g++): the standalone driver of support.h mutates the corpus files
// (*.bin) for FUZZ_SECONDS seconds (default 5).
//
// Each input is parsed with its copy ending right before a PROT_NONE page. Checked: the
// result is in range (consumed never more than the input, at most 107 for v1, 16 plus
// the declared length for v2), an error has a sentence and a success none, the
// addresses given are what inet_pton reads back in the same canonical form, the header
// parsed alone gives the same result, and every prefix gives need-more or the same
// result (never need-more after a definite answer: once bad, always bad).
#include "protocol/proxy_parser.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <vector>

#include "support.h"

using tsgi::ProxyHeader;
using tsgi::test::GuardBuffer;
using tsgi::test::Rng;

namespace {

GuardBuffer g_buf(1 << 17);

struct Outcome {
  ssize_t rc = 0;
  std::string error;
  ProxyHeader h;
  bool operator==(const Outcome& o) const {
    return rc == o.rc && error == o.error && h.version == o.h.version &&
           h.has_address == o.h.has_address && h.v6 == o.h.v6 &&
           std::strcmp(h.src_addr, o.h.src_addr) == 0 && std::strcmp(h.dst_addr, o.h.dst_addr) == 0 &&
           h.src_port == o.h.src_port && h.dst_port == o.h.dst_port;
  }
};

void CheckAddress(const char* text, bool v6) {
  unsigned char bin[16];
  FCHECK(inet_pton(v6 ? AF_INET6 : AF_INET, text, bin) == 1, 0);
  char back[46];
  FCHECK(inet_ntop(v6 ? AF_INET6 : AF_INET, bin, back, sizeof back) != nullptr, 0);
  FCHECK(std::strcmp(back, text) == 0, 0);
}

Outcome Parse(const uint8_t* data, size_t n) {
  const char* buf = g_buf.Put(reinterpret_cast<const char*>(data), n);
  Outcome o;
  const char* error = nullptr;
  o.rc = tsgi::ParseProxyHeader(buf, n, &o.h, &error);
  FCHECK(o.rc >= 0 || o.rc == tsgi::kParseBad || o.rc == tsgi::kParseNeedMore, static_cast<size_t>(-o.rc));
  if (o.rc == tsgi::kParseBad) {
    FCHECK(error != nullptr && *error != '\0', 0);
    o.error = error;
    return o;
  }
  FCHECK(error == nullptr, 0);
  if (o.rc == tsgi::kParseNeedMore) return o;
  FCHECK(o.rc > 0 && static_cast<size_t>(o.rc) <= n, static_cast<size_t>(o.rc));
  if (o.h.version == 1) {
    FCHECK(o.rc <= 107 && data[o.rc - 2] == '\r' && data[o.rc - 1] == '\n', static_cast<size_t>(o.rc));
  } else {
    FCHECK(o.h.version == 2 && n >= 16, n);
    FCHECK(static_cast<size_t>(o.rc) == 16 + (static_cast<size_t>(data[14]) << 8) + data[15], static_cast<size_t>(o.rc));
  }
  if (o.h.has_address) {
    CheckAddress(o.h.src_addr, o.h.v6);
    CheckAddress(o.h.dst_addr, o.h.v6);
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tsgi::test::BeginInput(data, size, "fuzz-failure.proxy");
  const Outcome whole = Parse(data, size);
  if (whole.rc > 0) {
    const Outcome alone = Parse(data, static_cast<size_t>(whole.rc));
    FCHECK(alone == whole, 0);
  }
  bool answered = false;
  for (size_t k = 0; k <= size && k <= 300; ++k) {
    const Outcome p = Parse(data, k);
    if (p.rc == tsgi::kParseNeedMore) {
      FCHECK(!answered, k);
      continue;
    }
    answered = true;
    FCHECK(p == whole, k);
  }
  tsgi::test::EndInput();
  return 0;
}

#ifndef TSGI_LIBFUZZER
namespace {

const char kInteresting[] = "\r\n\0 :.0123456789abcdefPROXYTCP46UNKNOWN\x11\x21\x31\x20\x21\xff";

void OwnMutation(size_t which, size_t pos, std::string* str, Rng* r) {
  std::string& s = *str;
  switch (which) {
    case 2:  // insert bytes
      tsgi::test::InsertInteresting(&s, pos, r, kInteresting, sizeof kInteresting - 1);
      break;
    case 4:  // v2: the length made to fit the block, or miss by a little
      if (s.size() >= 16) {
        const size_t n = s.size() - 16 + r->Below(3) - 1;
        s[14] = static_cast<char>((n >> 8) & 0xff);
        s[15] = static_cast<char>(n & 0xff);
      }
      break;
    case 5:  // v2: another version/command or family/transport byte
      if (s.size() >= 14) s[12 + r->Below(2)] = static_cast<char>(r->Below(256));
      break;
  }
}

std::string Mutate(std::string s, const std::vector<std::string>& seeds, Rng* r) {
  return tsgi::test::MutateBytes(s, seeds, kInteresting, sizeof kInteresting - 1, OwnMutation, r);
}

}  // namespace

int main(int argc, char** argv) {
  return tsgi::test::FuzzMain(argc, argv, {"proxy fuzz", ".bin", 5, Mutate});
}
#endif  // TSGI_LIBFUZZER
