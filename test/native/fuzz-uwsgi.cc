// A fuzz target for native/protocol/uwsgi_parser.cc.
//
// With libFuzzer (clang):
//   clang++ -Inative -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -DTSGI_LIBFUZZER
//     native/protocol/uwsgi_parser.cc test/native/fuzz-uwsgi.cc -o fuzz-uwsgi
//   ./fuzz-uwsgi test/uwsgi/valid test/uwsgi/invalid
//
// Without it (g++): a small built-in driver mutates the corpus files (*.bin) in the
// directories given on the command line, byte-wise and pair-wise (whole pairs
// added, dropped, repeated, renamed to the keys the parser knows, their values
// swapped for CONTENT_LENGTH-like text, the header's size kept right or not), and
// runs the target for FUZZ_SECONDS seconds (default 5) or until FUZZ_ITERATIONS
// inputs are done (default: no limit); FUZZ_SEED picks the random sequence
// (default 1). On a failed check (or a sanitizer report) the input is written to
// FUZZ_ARTIFACT (default fuzz-failure.uwsgi) and the program aborts.
//
// Each input is parsed with a few max_size values, each copy ending right before a
// PROT_NONE page. Checked: the result is in range (consumed = 4 + the header's size,
// never more than the input), kParseNeedMore only while the packet is not all in,
// every view lies inside the vars block exactly where the block has that pair, the
// whole result equals that of a naive reference parser (error sentence included),
// and prefixes give need-more or the whole result.
#include "protocol/uwsgi_parser.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "support.h"

using tsgi::UwsgiRequest;
using tsgi::test::GuardBuffer;
using tsgi::test::Rng;

namespace {

// Guarded buffers: data placed to end right before a PROT_NONE page.
GuardBuffer g_buf(1 << 17);
UwsgiRequest g_req;

size_t U16At(const uint8_t* p) {
  return static_cast<size_t>(p[0]) | (static_cast<size_t>(p[1]) << 8);
}

// ----------------------------------------------------------------------------
// What a parse gave, copied out.

using Vars = std::vector<std::pair<std::string, std::string>>;

struct Outcome {
  ssize_t rc = 0;
  std::string error;  // the sentence, for kParseBad
  Vars vars;
  uint64_t content_length = 0;
  int idx[6] = {-1, -1, -1, -1, -1, -1};

  bool operator==(const Outcome& o) const {
    if (rc != o.rc) return false;
    if (rc == tsgi::kParseBad) return error == o.error;
    if (rc == tsgi::kParseNeedMore) return true;
    return vars == o.vars && content_length == o.content_length &&
           std::equal(idx, idx + 6, o.idx);
  }
};

const char* const kIndexNames[6] = {"REQUEST_METHOD", "REQUEST_URI",     "PATH_INFO",
                                    "QUERY_STRING",   "SERVER_PROTOCOL", "CONTENT_LENGTH"};

Outcome Parse(const uint8_t* data, size_t n, size_t max_size) {
  const char* buf = g_buf.Put(data, n);
  const uint8_t* ubuf = reinterpret_cast<const uint8_t*>(buf);
  const char* error = nullptr;
  Outcome o;
  o.rc = tsgi::ParseUwsgiPacket(buf, n, max_size, &g_req, &error);
  if (o.rc == tsgi::kParseNeedMore) {
    FCHECK(error == nullptr, 0);
    FCHECK(n < 4 || n < 4 + U16At(ubuf + 1), n);
    return o;
  }
  if (o.rc == tsgi::kParseBad) {
    FCHECK(error != nullptr && *error != '\0', 0);
    FCHECK(n >= 4, n);
    o.error = error;
    return o;
  }
  FCHECK(error == nullptr, 0);
  FCHECK(o.rc >= 4 && static_cast<size_t>(o.rc) <= n, o.rc);
  const size_t size = U16At(ubuf + 1);
  FCHECK(static_cast<size_t>(o.rc) == 4 + size, o.rc);
  FCHECK(size <= max_size, size);
  const UwsgiRequest& r = g_req;
  FCHECK((r.modifier1 == 0 || r.modifier1 == 30) && r.modifier1 == ubuf[0] && r.modifier2 == 0 && ubuf[3] == 0, 0);
  FCHECK(r.num_vars <= UwsgiRequest::kMaxVars, r.num_vars);
  // The views, pair by pair, exactly where the block has them.
  const char* p = buf + 4;
  const char* const end = buf + o.rc;
  for (size_t i = 0; i < r.num_vars; ++i) {
    const tsgi::StrView k = r.vars[i].key;
    const tsgi::StrView v = r.vars[i].value;
    FCHECK(p <= end && end - p >= 4, i);
    FCHECK(k.data == p + 2 && k.len == U16At(reinterpret_cast<const uint8_t*>(p)), i);
    FCHECK(k.len > 0 && k.len <= static_cast<size_t>(end - k.data) - 2, i);
    for (size_t j = 0; j < k.len; ++j) {
      const unsigned char c = static_cast<unsigned char>(k.data[j]);
      FCHECK(c > 0x20 && c != 0x7f, c);
    }
    FCHECK(v.data == k.data + k.len + 2, i);
    FCHECK(v.len == U16At(reinterpret_cast<const uint8_t*>(k.data + k.len)), i);
    FCHECK(v.len <= static_cast<size_t>(end - v.data), i);
    p = v.data + v.len;
    o.vars.emplace_back(std::string(k.data, k.len), std::string(v.data, v.len));
  }
  FCHECK(p == end, 0);
  o.content_length = r.content_length;
  o.idx[0] = r.request_method;
  o.idx[1] = r.request_uri;
  o.idx[2] = r.path_info;
  o.idx[3] = r.query_string;
  o.idx[4] = r.server_protocol;
  o.idx[5] = r.content_length_var;
  for (int k = 0; k < 6; ++k) {
    FCHECK(o.idx[k] >= -1 && o.idx[k] < static_cast<int>(r.num_vars), k);
    if (o.idx[k] >= 0) FCHECK(o.vars[static_cast<size_t>(o.idx[k])].first == kIndexNames[k], k);
  }
  FCHECK(o.idx[0] >= 0 && !o.vars[static_cast<size_t>(o.idx[0])].second.empty(), 0);
  return o;
}

// ----------------------------------------------------------------------------
// A naive reference: copies the block out as a string and judges it with
// std::string operations, giving the phrase its error sentence must hold.

struct Ref {
  ssize_t rc = 0;
  const char* phrase = nullptr;
  Outcome o;
};

Ref RefParse(const uint8_t* d, size_t n, size_t max_size) {
  Ref r;
  const auto bad = [&r](const char* phrase) {
    r.rc = tsgi::kParseBad;
    r.phrase = phrase;
    return r;
  };
  if (n < 4) {
    r.rc = tsgi::kParseNeedMore;
    return r;
  }
  if (d[0] != 0 && d[0] != 30) return bad("modifier1 is not 0 or 30");
  if (d[3] != 0) return bad("modifier2 is not 0");
  const size_t size = d[1] + 256u * d[2];
  if (size > max_size) return bad("larger than buffer-size");
  if (n < 4 + size) {
    r.rc = tsgi::kParseNeedMore;
    return r;
  }
  const std::string blk(reinterpret_cast<const char*>(d) + 4, size);
  const auto len_at = [&blk](size_t at) {
    return static_cast<size_t>(static_cast<unsigned char>(blk[at])) +
           256 * static_cast<size_t>(static_cast<unsigned char>(blk[at + 1]));
  };
  Vars vars;
  bool have_cl = false;
  uint64_t cl = 0;
  size_t at = 0;
  while (at < blk.size()) {
    if (vars.size() == 256) return bad("more than 256 vars");
    if (blk.size() - at == 1) return bad("one byte left");
    const size_t kl = len_at(at);
    at += 2;
    if (kl == 0) return bad("empty key");
    if (at + kl > blk.size()) return bad("key runs past the end");
    const std::string key = blk.substr(at, kl);
    at += kl;
    for (char ch : key) {
      const unsigned char c = static_cast<unsigned char>(ch);
      if (c <= 0x20 || c == 0x7f) return bad("key holds a control byte, a space or DEL");
    }
    if (at + 2 > blk.size()) return bad("value length runs past the end");
    const size_t vl = len_at(at);
    at += 2;
    if (at + vl > blk.size()) return bad("value runs past the end");
    const std::string value = blk.substr(at, vl);
    at += vl;
    if (key == "CONTENT_LENGTH") {
      if (have_cl) return bad("CONTENT_LENGTH appears twice");
      have_cl = true;
      const size_t first = value.find_first_not_of('0');
      const std::string significant = first == std::string::npos ? "" : value.substr(first);
      if (significant.size() > 19 || value.find_first_not_of("0123456789") != std::string::npos)
        return bad("CONTENT_LENGTH is neither empty nor a decimal number below 10^19");
      cl = significant.empty() ? 0 : strtoull(significant.c_str(), nullptr, 10);
    }
    vars.emplace_back(key, value);
  }
  for (size_t i = 0; i < vars.size(); ++i) {
    for (int k = 0; k < 6; ++k) {
      if (vars[i].first == kIndexNames[k]) r.o.idx[k] = static_cast<int>(i);
    }
  }
  if (r.o.idx[0] < 0 || vars[static_cast<size_t>(r.o.idx[0])].second.empty())
    return bad("REQUEST_METHOD is missing or empty");
  r.rc = static_cast<ssize_t>(4 + size);
  r.o.rc = r.rc;
  r.o.vars = std::move(vars);
  r.o.content_length = cl;
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tsgi::test::BeginInput(data, size, "fuzz-failure.uwsgi");
  const uint64_t seed = tsgi::test::Hash(data, size);
  const size_t block = size >= 3 ? U16At(data + 1) : 0;
  const size_t max_sizes[4] = {65535, 4096, block, block > 0 ? block - 1 : 0};
  for (size_t max_size : max_sizes) {
    const Outcome whole = Parse(data, size, max_size);
    const Ref ref = RefParse(data, size, max_size);
    FCHECK(whole.rc == ref.rc, static_cast<size_t>(whole.rc + 10));
    if (whole.rc == tsgi::kParseBad) {
      FCHECK(whole.error.find(ref.phrase) != std::string::npos, 0);
    } else if (whole.rc >= 0) {
      FCHECK(whole == ref.o, 0);
    }
    // Prefixes: need-more, or the whole result; the answer comes at 4 bytes (a
    // header fault) or with the whole packet.
    size_t ks[12];
    size_t nk = 0;
    uint64_t s = seed ^ max_size;
    for (int i = 0; i < 5 && size > 0; ++i) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      ks[nk++] = static_cast<size_t>((s >> 33) % (size + 1));
    }
    ks[nk++] = 3;
    ks[nk++] = 4;
    ks[nk++] = 4 + block - (block > 0 ? 1 : 0);
    ks[nk++] = 4 + block;
    ks[nk++] = 4 + block + 1;
    for (size_t i = 0; i < nk; ++i) {
      const size_t k = ks[i];
      if (k > size) continue;
      const Outcome p = Parse(data, k, max_size);
      if (p.rc == tsgi::kParseNeedMore) {
        FCHECK(whole.rc == tsgi::kParseNeedMore || k < 4 || k < 4 + block, k);
      } else {
        FCHECK(p == whole, k);
        FCHECK(k >= 4, k);
      }
    }
  }
  tsgi::test::EndInput();
  return 0;
}

#ifndef TSGI_LIBFUZZER
// ----------------------------------------------------------------------------
// The standalone driver.

namespace {

const char* const kKeys[] = {
    "REQUEST_METHOD", "CONTENT_LENGTH", "REQUEST_URI", "PATH_INFO", "QUERY_STRING",
    "SERVER_PROTOCOL", "HTTP_HOST", "HTTPS", "CONTENT_TYPE", "HTTP_CONTENT_LENGTH",
    "REQUEST_METHODX", "request_method", "CONTENT_LENGT", "X", "HTTP_X\x01", "A B",
    "HTTP_\x80", "~!", "",
};
const char* const kValues[] = {
    "", "GET", "POST", "0", "5", "1234567890123456789", "12345678901234567890",
    "9999999999999999999", "0000000000000000000005", "-1", " 5", "5 ", "+5", "abc",
    "0x10", "/", "/a?b", "HTTP/1.1", "\x80\xff", "\r\n",
};

std::string U16(size_t n) {
  std::string s;
  s.push_back(static_cast<char>(n & 0xff));
  s.push_back(static_cast<char>((n >> 8) & 0xff));
  return s;
}

// Splits s into its header, the pairs its vars block holds (as far as they are
// well-formed) and what follows them; false when that does not work.
bool Split(const std::string& s, Vars* pairs, std::string* rest) {
  if (s.size() < 4) return false;
  const size_t end = std::min(s.size(), 4 + U16At(reinterpret_cast<const uint8_t*>(s.data()) + 1));
  size_t at = 4;
  const auto u16 = [&s](size_t i) {
    return U16At(reinterpret_cast<const uint8_t*>(s.data()) + i);
  };
  while (at + 4 <= end) {
    const size_t kl = u16(at);
    if (at + 2 + kl + 2 > end) break;
    const size_t vl = u16(at + 2 + kl);
    if (at + 4 + kl + vl > end) break;
    pairs->emplace_back(s.substr(at + 2, kl), s.substr(at + 4 + kl, vl));
    at += 4 + kl + vl;
  }
  *rest = s.substr(at);
  return true;
}

std::string PairMutate(const std::string& in, Rng* r) {
  Vars pairs;
  std::string rest;
  if (!Split(in, &pairs, &rest)) return in;
  const int rounds = 1 + static_cast<int>(r->Below(3));
  for (int i = 0; i < rounds; ++i) {
    const size_t at = r->Below(pairs.size() + 1);
    switch (r->Below(7)) {
      case 0:  // insert a known key with a chosen value
        pairs.insert(pairs.begin() + static_cast<std::ptrdiff_t>(at),
                     {kKeys[r->Below(sizeof kKeys / sizeof kKeys[0])],
                      kValues[r->Below(sizeof kValues / sizeof kValues[0])]});
        break;
      case 1:  // drop a pair
        if (at < pairs.size()) pairs.erase(pairs.begin() + static_cast<std::ptrdiff_t>(at));
        break;
      case 2:  // repeat a pair
        if (at < pairs.size()) pairs.push_back(pairs[at]);
        break;
      case 3:  // rename a pair
        if (at < pairs.size()) pairs[at].first = kKeys[r->Below(sizeof kKeys / sizeof kKeys[0])];
        break;
      case 4:  // a new value
        if (at < pairs.size())
          pairs[at].second = kValues[r->Below(sizeof kValues / sizeof kValues[0])];
        break;
      case 5:  // many small pairs, around kMaxVars
        for (size_t k = 250 + r->Below(10); pairs.size() < k;) pairs.emplace_back("K", "");
        break;
      case 6:  // swap two pairs
        if (at < pairs.size()) std::swap(pairs[at], pairs[r->Below(pairs.size())]);
        break;
    }
  }
  std::string blk;
  for (const auto& kv : pairs) {
    blk += U16(kv.first.size()) + kv.first + U16(kv.second.size()) + kv.second;
  }
  if (blk.size() > 65535) blk.resize(65535);
  // Usually the pairs alone, sometimes with what followed them inside the old block.
  if (r->Below(4) == 0) blk += rest.substr(0, std::min(rest.size(), 65535 - blk.size()));
  std::string out = in.substr(0, 1) + U16(blk.size()) + in.substr(3, 1) + blk;
  if (r->Below(2) == 0) out += rest.substr(0, 64);  // a body
  return out;
}

const char kInteresting[] = "\x00\x01\x02\x03\x04\x20\x21\x7e\x7f\x80\xff" "0123456789-+ ";

// Mutations 2, 4 and 5 of tsgi::test::MutateBytes.
void OwnMutation(size_t which, size_t pos, std::string* str, Rng* r) {
  std::string& s = *str;
  switch (which) {
    case 2:  // insert bytes
      tsgi::test::InsertInteresting(&s, pos, r, kInteresting, sizeof kInteresting - 1);
      break;
    case 4: {  // a 16-bit length somewhere: 0, 1, 0xffff, or one off
      if (s.size() < 2) break;
      const size_t at = r->Below(s.size() - 1);
      size_t v = U16At(reinterpret_cast<const uint8_t*>(s.data()) + at);
      const size_t choice = r->Below(5);
      v = choice == 0 ? 0 : choice == 1 ? 1 : choice == 2 ? 0xffff : choice == 3 ? v + 1 : v - 1;
      s.replace(at, 2, U16(v & 0xffff));
      break;
    }
    case 5:  // the header's size made to fit (or miss by a little)
      if (s.size() >= 4) {
        const size_t n = s.size() - 4 - std::min<size_t>(s.size() - 4, r->Below(3));
        s.replace(1, 2, U16(std::min<size_t>(n + r->Below(2), 0xffff)));
      }
      break;
  }
}

std::string ByteMutate(const std::string& in, const std::vector<std::string>& seeds, Rng* r) {
  return tsgi::test::MutateBytes(in, seeds, kInteresting, sizeof kInteresting - 1, OwnMutation, r);
}

std::string MutateSeed(std::string s, const std::vector<std::string>& seeds, Rng* r) {
  switch (r->Below(4)) {
    case 0: return ByteMutate(s, seeds, r);
    case 1: return PairMutate(ByteMutate(s, seeds, r), r);
    default: return PairMutate(s, r);
  }
}

}  // namespace

int main(int argc, char** argv) {
  return tsgi::test::FuzzMain(argc, argv, {"uwsgi fuzz", ".bin", 5, MutateSeed});
}
#endif  // TSGI_LIBFUZZER
