// The fuzz targets' failure handling and their standalone mutation driver.
#ifndef TSGI_TEST_NATIVE_SUPPORT_FUZZ_H_
#define TSGI_TEST_NATIVE_SUPPORT_FUZZ_H_

#include "support-buffer.h"

namespace tsgi {
namespace test {

// ----------------------------------------------------------------------------
// The fuzz targets: the input under test is kept so that a failed check (or a
// sanitizer report) can write it out before the program aborts.

struct FuzzInput {
  const uint8_t* data = nullptr;
  size_t size = 0;
  const char* default_artifact = nullptr;  // where it goes without FUZZ_ARTIFACT
};
inline FuzzInput g_fuzz_input;

inline void BeginInput(const uint8_t* data, size_t size, const char* default_artifact) {
  g_fuzz_input = FuzzInput{data, size, default_artifact};
}
inline void EndInput() { g_fuzz_input.data = nullptr; }

// Writes the input under test, if any, to FUZZ_ARTIFACT.
inline void SaveInput() {
  const FuzzInput& in = g_fuzz_input;
  if (in.data == nullptr) return;
  const char* path = getenv("FUZZ_ARTIFACT");
  if (path == nullptr) path = in.default_artifact;
  if (FILE* f = fopen(path, "wb")) {
    fwrite(in.data, 1, in.size, f);
    fclose(f);
    fprintf(stderr, "input (%zu bytes) written to %s\n", in.size, path);
  }
}

[[noreturn]] inline void Fail(const char* what, size_t detail) {
  fprintf(stderr, "CHECK FAILED: %s (%zu)\n", what, detail);
  SaveInput();
  EndInput();
  abort();
}

#define FCHECK(cond, detail)                                               \
  do {                                                                     \
    if (!(cond)) ::tsgi::test::Fail(#cond, static_cast<size_t>(detail)); \
  } while (0)

// FNV-1a, to derive an input's own random choices from its bytes.
inline uint64_t Hash(const uint8_t* data, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; ++i) h = (h ^ data[i]) * 1099511628211ULL;
  return h;
}

struct Rng {
  uint64_t s;
  uint64_t Next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }
};

// Inserts one to three copies of one byte of interesting[0..n) into s at pos: the
// "insert bytes" mutation that each fuzz target makes with its own interesting bytes.
inline void InsertInteresting(std::string* s, size_t pos, Rng* r, const char* interesting, size_t n) {
  s->insert(pos, 1 + r->Below(3), interesting[r->Below(n)]);
}

// A fuzz target's own byte-level mutations of s at pos (which: 2, 4 or 5, see
// MutateBytes).
using OwnMutation = void (*)(size_t which, size_t pos, std::string* s, Rng* r);

// One to four rounds of byte-level mutations of in, each at a random position pos:
// 0 flip a bit, 1 overwrite a byte with one of interesting[0..n_interesting),
// 3 delete a few bytes, 6 splice with another seed, 7 truncate, 8 a random byte;
// 2, 4 and 5 are the target's own.
inline std::string MutateBytes(const std::string& in, const std::vector<std::string>& seeds,
                               const char* interesting, size_t n_interesting, OwnMutation own,
                               Rng* r) {
  std::string s = in;
  const int rounds = 1 + static_cast<int>(r->Below(4));
  for (int i = 0; i < rounds; ++i) {
    const size_t pos = r->Below(s.size() + 1);
    const size_t which = r->Below(9);
    switch (which) {
      case 0:  // flip a bit
        if (!s.empty()) s[r->Below(s.size())] ^= static_cast<char>(1 << r->Below(8));
        break;
      case 1:  // overwrite with an interesting byte
        if (!s.empty()) s[r->Below(s.size())] = interesting[r->Below(n_interesting)];
        break;
      case 3:  // delete a few bytes
        s.erase(pos, 1 + r->Below(8));
        break;
      case 6: {  // splice with another seed
        const std::string& o = seeds[r->Below(seeds.size())];
        s = s.substr(0, pos) + o.substr(r->Below(o.size() + 1));
        break;
      }
      case 7:  // truncate
        s.resize(pos);
        break;
      case 8:  // a random byte
        if (!s.empty()) s[r->Below(s.size())] = static_cast<char>(r->Below(256));
        break;
      default:  // 2, 4, 5
        own(which, pos, &s, r);
        break;
    }
  }
  return s;
}

// Appends the contents of every *.ext file in dir to out; exits 2 when dir
// cannot be opened.
inline void LoadDir(const std::string& dir, const std::string& ext,
                    std::vector<std::string>* out) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    fprintf(stderr, "cannot open %s\n", dir.c_str());
    exit(2);
  }
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (!HasExtension(n, ext)) continue;
    std::ifstream f(dir + "/" + n, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    out->push_back(ss.str());
  }
  closedir(d);
}

inline double EnvNum(const char* name, double def) {
  const char* v = getenv(name);
  return v != nullptr && *v != '\0' ? atof(v) : def;
}

inline void RunInput(const std::string& s) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Makes one fuzz input of seed, a corpus file picked at random from seeds.
using Mutator = std::string (*)(std::string seed, const std::vector<std::string>& seeds,
                                Rng* rng);

struct FuzzDriver {
  const char* label;       // of the summary line, e.g. "uwsgi fuzz"
  const char* ext;         // of the corpus files, e.g. ".bin"
  double default_seconds;  // without FUZZ_SECONDS
  Mutator mutate;
};

// The standalone driver (without libFuzzer): runs the target on every corpus file
// (*.ext) in the directories on the command line, then on mutations of them for
// FUZZ_SECONDS seconds or until FUZZ_ITERATIONS inputs are done (default: no
// limit); FUZZ_SEED picks the random sequence (default 1).
inline int FuzzMain(int argc, char** argv, const FuzzDriver& driver) {
#ifdef TSGI_HAVE_SANITIZER_API
  __sanitizer_set_death_callback(SaveInput);
#endif
  std::vector<std::string> seeds;
  for (int i = 1; i < argc; ++i) LoadDir(argv[i], driver.ext, &seeds);
  if (seeds.empty()) {
    fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
    return 2;
  }
  std::sort(seeds.begin(), seeds.end());
  const double seconds = EnvNum("FUZZ_SECONDS", driver.default_seconds);
  const uint64_t iterations = static_cast<uint64_t>(EnvNum("FUZZ_ITERATIONS", 1e18));
  Rng rng{static_cast<uint64_t>(EnvNum("FUZZ_SEED", 1)) * 0x9e3779b97f4a7c15ULL + 1};

  for (const auto& s : seeds) RunInput(s);
  const auto start = std::chrono::steady_clock::now();
  uint64_t n = 0;
  for (; n < iterations; ++n) {
    if ((n & 255) == 0) {
      const std::chrono::duration<double> el = std::chrono::steady_clock::now() - start;
      if (el.count() >= seconds) break;
    }
    const std::string& seed = seeds[rng.Below(seeds.size())];
    RunInput(driver.mutate(seed, seeds, &rng));
  }
  const std::chrono::duration<double> el = std::chrono::steady_clock::now() - start;
  printf("%s: %zu seeds, %llu mutated inputs in %.1f s, no failures\n", driver.label,
         seeds.size(), static_cast<unsigned long long>(n), el.count());
  return 0;
}

}  // namespace test
}  // namespace tsgi

#endif  // TSGI_TEST_NATIVE_SUPPORT_FUZZ_H_
