// A fuzz target for native/protocol/http_parser.cc.
//
// With libFuzzer (clang):
//   clang++ -Inative -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -DTSGI_LIBFUZZER
//     native/protocol/http_parser.cc test/native/fuzz-parser.cc -o fuzz-parser
//   ./fuzz-parser test/requests/valid test/requests/invalid
//
// Without it (g++): a small built-in driver mutates the corpus files given as
// directories on the command line and runs the target for FUZZ_SECONDS seconds
// (default 15) or until FUZZ_ITERATIONS inputs are done (default: no limit); FUZZ_SEED picks the random sequence (default 1). On a failed check
// (or a sanitizer report) the input is written to FUZZ_ARTIFACT (default
// fuzz-failure.http) and the program aborts.
//
// Each input is parsed as a request head and, when that works and says chunked,
// the rest as a chunked body; the whole input is also fed to a ChunkedDecoder
// directly. Checked: results are in range, every view lies inside its buffer,
// everything a valid head holds obeys RFC 9112's grammar, the framing and
// keep-alive facts agree with a naive reading of the fields, prefixes give
// need-more or the whole result, and a body fed in pieces gives what it gives whole.
#include "protocol/http_parser.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "support.h"

using tsgi::BodyFraming;
using tsgi::ChunkedDecoder;
using tsgi::HttpError;
using tsgi::HttpRequestHead;
using tsgi::StrView;
using tsgi::test::GuardBuffer;
using tsgi::test::Rng;


#include "fuzz-parser-copies.h"
#include "fuzz-parser-reference.h"

namespace {

// Checks that body[0..n) decodes the same whole, in two pieces and byte by byte.
void CheckBody(const uint8_t* body, size_t n, uint64_t seed) {
  const BodyCopy whole = Decode(body, n, {});
  bool either = false;
  const BodyCopy ref = RefDecode(body, n, &either);
  if (either) {
    FCHECK(whole.r != ChunkedDecoder::Result::kDone && ref.r != ChunkedDecoder::Result::kDone,
           0);
  } else {
    FCHECK(whole == ref, static_cast<size_t>(whole.r) * 10 + static_cast<size_t>(ref.r));
  }
  if (whole.r == ChunkedDecoder::Result::kDone) FCHECK(whole.consumed <= n, whole.consumed);
  if (whole.r == ChunkedDecoder::Result::kNeedMore) FCHECK(whole.consumed == n, whole.consumed);
  if (n < 2) return;
  for (int i = 0; i < 4; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    const size_t k = 1 + static_cast<size_t>((seed >> 33) % (n - 1));
    FCHECK(Decode(body, n, {k}) == whole, k);
  }
  if (n <= 300) {
    std::vector<size_t> cuts;
    for (size_t k = 1; k < n; ++k) cuts.push_back(k);
    FCHECK(Decode(body, n, cuts) == whole, n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tsgi::test::BeginInput(data, size, "fuzz-failure.http");
  const uint64_t seed = tsgi::test::Hash(data, size);
  const size_t max_heads[2] = {8192, size / 2 + 1};
  for (size_t max_head : max_heads) {
    const HeadCopy whole = Parse(data, size, max_head, true);
    bool skip = false;
    const HeadCopy ref = RefParse(data, size, max_head, &skip);
    if (!skip) {
      // The reference judges statuses, not reasons.
      const bool same = whole.rc == tsgi::kParseBad
                            ? ref.rc == tsgi::kParseBad && whole.status == ref.status
                            : whole == ref;
      FCHECK(same, whole.rc == tsgi::kParseBad ? static_cast<size_t>(whole.status)
                                               : static_cast<size_t>(whole.rc));
    }
    // Prefixes: need-more, or the whole result.
    size_t ks[10];
    size_t nk = 0;
    uint64_t s = seed ^ max_head;
    for (int i = 0; i < 6 && size > 0; ++i) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      ks[nk++] = static_cast<size_t>((s >> 33) % size);
    }
    if (whole.rc > 0) {
      ks[nk++] = static_cast<size_t>(whole.rc) - 1;
      ks[nk++] = static_cast<size_t>(whole.rc);
    }
    for (size_t i = 0; i < nk; ++i) {
      const size_t k = ks[i];
      if (k > size) continue;
      const HeadCopy p = Parse(data, k, max_head, false);
      if (p.rc == tsgi::kParseNeedMore) {
        FCHECK(whole.rc < 0 || k < static_cast<size_t>(whole.rc), k);
      } else {
        FCHECK(p == whole, k);
      }
    }
    if (whole.rc > 0 && whole.framing == BodyFraming::kChunked) {
      CheckBody(data + whole.rc, size - static_cast<size_t>(whole.rc), seed);
    }
  }
  // The decoder on its own, on everything.
  CheckBody(data, size, seed);
  tsgi::test::EndInput();
  return 0;
}

#ifndef TSGI_LIBFUZZER
// ----------------------------------------------------------------------------
// The standalone driver.

namespace {

const char kInteresting[] = "\r\n \t:;=\",\\0019afAFxX-+/?*.H\x7f\x80\xff";
const char* const kDict[] = {
    "\r\n", "\r\n\r\n", "\n", "\r", " ", "\t", ",", ", ", ";", "=", "\"",
    "Transfer-Encoding: chunked\r\n", "Content-Length: 5\r\n", "Content-Length: 0\r\n",
    "Host: x\r\n", "Connection: close\r\n", "Connection: keep-alive\r\n",
    "Expect: 100-continue\r\n", "chunked", "gzip, ", "CHUNKED", "HTTP/1.0", "HTTP/1.1",
    "HTTP/2.0", "0\r\n\r\n", "5\r\nhello\r\n", ";a=\"b c\"", ";a=b", "ffffffffffffffff",
    "7fffffffffffffff", "0x", "X-A: b\r\n", " folded\r\n", "GET / HTTP/1.1\r\n",
    "http://h:1/p?q", "*", "%2", "%41", "100-continue", "close", "keep-alive",
    "#", "@", "[::1]", "[v1.x]", "https://", "CONNECT ", "OPTIONS ", "h:443",
};

// Mutations 2, 4 and 5 of tsgi::test::MutateBytes.
void OwnMutation(size_t which, size_t pos, std::string* str, Rng* r) {
  std::string& s = *str;
  switch (which) {
    case 2:  // insert an interesting byte
      s.insert(pos, 1, kInteresting[r->Below(sizeof kInteresting - 1)]);
      break;
    case 4: {  // duplicate a range
      if (s.empty()) break;
      const size_t a = r->Below(s.size());
      const std::string piece = s.substr(a, 1 + r->Below(32));
      s.insert(pos, piece);
      break;
    }
    case 5:  // insert a dictionary word
      s.insert(pos, kDict[r->Below(sizeof kDict / sizeof kDict[0])]);
      break;
  }
}

std::string MutateSeed(std::string s, const std::vector<std::string>& seeds, Rng* r) {
  // Keep the big seeds from eating the time budget.
  if (s.size() > 2048 && r->Below(8) != 0) s.resize(r->Below(2048));
  s = tsgi::test::MutateBytes(s, seeds, kInteresting, sizeof kInteresting - 1, OwnMutation, r);
  if (s.size() > 70000) s.resize(70000);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  return tsgi::test::FuzzMain(argc, argv, {"fuzz", ".http", 15, MutateSeed});
}
#endif  // TSGI_LIBFUZZER
