// Support code shared by the native test programs (parser-test, uwsgi-test,
// fuzz-parser, fuzz-uwsgi): the guard-page buffer, a tiny JSON reader for the
// corpus files, the pass/fail bookkeeping and corpus walk of the corpus tests, and
// the failure handling and standalone mutation driver of the fuzz targets.
//
// Header-only: every function is inline and every global an inline variable, so a
// program that does not use a part pays nothing for it and gets no unused-function
// warning (the build is -Wall -Wextra -Werror, and -Wpedantic -Wshadow -Wconversion
// for the uwsgi programs, which this header is held to as well).
#ifndef TSGI_TEST_NATIVE_SUPPORT_H_
#define TSGI_TEST_NATIVE_SUPPORT_H_

#include <dirent.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define TSGI_HAVE_SANITIZER_API 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TSGI_HAVE_SANITIZER_API 1
#endif
#endif
#ifdef TSGI_HAVE_SANITIZER_API
#include <sanitizer/common_interface_defs.h>
#endif

// The fuzz target of a fuzz program; FuzzMain (the standalone driver) calls it.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace tsgi {
namespace test {

// ----------------------------------------------------------------------------
// A buffer whose end is followed by an inaccessible (PROT_NONE) page: data is
// placed to end right before it, so that a parser reading even one byte past what
// it was given crashes in the test instead of going unnoticed.

class GuardBuffer {
 public:
  explicit GuardBuffer(size_t cap) { Allocate(cap); }
  ~GuardBuffer() { Free(); }
  GuardBuffer(const GuardBuffer&) = delete;
  GuardBuffer& operator=(const GuardBuffer&) = delete;

  // Copies data[0..n) so that it ends right before the guard page.
  const char* Put(const char* data, size_t n) {
    Reserve(n);
    char* p = end_ - n;
    if (n != 0) memcpy(p, data, n);
    return p;
  }
  const char* Put(const uint8_t* data, size_t n) {
    return Put(reinterpret_cast<const char*>(data), n);
  }

  // Appends one byte to what the last Put or Append placed (n bytes), moving it
  // down by one so that it still ends right before the guard page.
  const char* Append(size_t n, char c) {
    if (n + 1 > cap_) abort();  // callers size the buffer first
    char* p = end_ - n;
    if (n != 0) memmove(p - 1, p, n);
    end_[-1] = c;
    return p - 1;
  }

  // Makes room for n bytes (what was placed before is lost if it grows).
  void Reserve(size_t n) {
    if (n > cap_) {
      Free();
      Allocate(n);
    }
  }

 private:
  void Allocate(size_t cap) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    cap_ = (cap + page - 1) / page * page;
    if (cap_ == 0) cap_ = page;
    size_ = cap_ + page;
    void* m = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      perror("mmap");
      abort();
    }
    base_ = static_cast<char*>(m);
    end_ = base_ + cap_;
    if (mprotect(end_, page, PROT_NONE) != 0) {
      perror("mprotect");
      abort();
    }
  }
  void Free() {
    if (base_ != nullptr) munmap(base_, size_);
    base_ = nullptr;
  }

  char* base_ = nullptr;
  char* end_ = nullptr;
  size_t cap_ = 0;
  size_t size_ = 0;
};

// ----------------------------------------------------------------------------
// Files and failure messages.

inline bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

// s as a failure message shows it: printable ASCII as it is, a backslash doubled,
// any other byte as \xHH (CR and LF as \r and \n when crlf_by_name), and "..."
// after the first max bytes when there are more.
inline std::string Printable(const std::string& s, size_t max, bool crlf_by_name) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (crlf_by_name && c == '\r') {
      out += "\\r";
    } else if (crlf_by_name && c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c >= 0x7f) {
      char b[8];
      snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

// ----------------------------------------------------------------------------
// A minimal JSON reader: objects, arrays, strings (\uXXXX only up to \u00FF, as
// one byte: the corpus strings are latin1), non-negative integers, true, false,
// null.

struct Json {
  enum Kind { kNull, kBool, kNum, kStr, kArr, kObj } kind = kNull;
  bool b = false;
  uint64_t num = 0;
  std::string str;
  std::vector<Json> arr;
  std::vector<std::pair<std::string, Json>> obj;

  const Json* Get(const std::string& key) const {
    for (const auto& kv : obj) {
      if (kv.first == key) return &kv.second;
    }
    return nullptr;
  }
  // The number under key, or def when there is no such key.
  uint64_t NumOr(const std::string& key, uint64_t def) const {
    const Json* v = Get(key);
    return v ? v->num : def;
  }
};

class JsonReader {
 public:
  explicit JsonReader(const std::string& s) : s_(s) {}

  bool Read(Json* out) {
    if (!Value(out)) return false;
    Ws();
    return pos_ == s_.size();
  }

 private:
  void Ws() {
    while (pos_ < s_.size() && strchr(" \t\r\n", s_[pos_]) != nullptr) ++pos_;
  }
  bool Lit(const char* lit) {
    const size_t n = strlen(lit);
    if (s_.compare(pos_, n, lit) != 0) return false;
    pos_ += n;
    return true;
  }
  bool Value(Json* out) {
    Ws();
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (c == '{') {
      out->kind = Json::kObj;
      ++pos_;
      Ws();
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      for (;;) {
        Ws();
        std::string key;
        if (!String(&key)) return false;
        Ws();
        if (pos_ >= s_.size() || s_[pos_] != ':') return false;
        ++pos_;
        Json v;
        if (!Value(&v)) return false;
        out->obj.emplace_back(std::move(key), std::move(v));
        Ws();
        if (pos_ >= s_.size()) return false;
        if (s_[pos_] == '}') {
          ++pos_;
          return true;
        }
        if (s_[pos_] != ',') return false;
        ++pos_;
      }
    }
    if (c == '[') {
      out->kind = Json::kArr;
      ++pos_;
      Ws();
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      for (;;) {
        Json v;
        if (!Value(&v)) return false;
        out->arr.push_back(std::move(v));
        Ws();
        if (pos_ >= s_.size()) return false;
        if (s_[pos_] == ']') {
          ++pos_;
          return true;
        }
        if (s_[pos_] != ',') return false;
        ++pos_;
      }
    }
    if (c == '"') {
      out->kind = Json::kStr;
      return String(&out->str);
    }
    if (c >= '0' && c <= '9') {
      out->kind = Json::kNum;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        out->num = out->num * 10 + static_cast<uint64_t>(s_[pos_] - '0');
        ++pos_;
      }
      return true;
    }
    if (Lit("true")) {
      out->kind = Json::kBool;
      out->b = true;
      return true;
    }
    if (Lit("false")) {
      out->kind = Json::kBool;
      return true;
    }
    if (Lit("null")) {
      out->kind = Json::kNull;
      return true;
    }
    return false;
  }
  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool String(std::string* out) {
    if (pos_ >= s_.size() || s_[pos_] != '"') return false;
    ++pos_;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return false;
      const char e = s_[pos_++];
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          if (pos_ + 4 > s_.size()) return false;
          int v = 0;
          for (int i = 0; i < 4; ++i) {
            const int h = Hex(s_[pos_++]);
            if (h < 0) return false;
            v = v * 16 + h;
          }
          if (v > 0xff) return false;  // the corpus is latin1
          out->push_back(static_cast<char>(v));
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  const std::string& s_;
  size_t pos_ = 0;
};

// ----------------------------------------------------------------------------
// The corpus tests: each corpus case and each CHECK counts as one test.

inline int g_passed = 0;
inline int g_failed = 0;

// A unit-test check: counts a pass, or counts a failure and prints where it is.
#define CHECK(cond)                                                   \
  do {                                                                \
    if (cond) {                                                       \
      ++::tsgi::test::g_passed;                                       \
    } else {                                                          \
      ++::tsgi::test::g_failed;                                       \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);          \
    }                                                                 \
  } while (0)

// In a corpus check (a void function with std::vector<std::string>* fails):
// records a failure message, printf-style, and gives up on the case after six.
#define FAIL_IF(cond, ...)                  \
  do {                                      \
    if (cond) {                             \
      char b_[2048];                        \
      snprintf(b_, sizeof b_, __VA_ARGS__); \
      fails->push_back(b_);                 \
      if (fails->size() > 5) return;        \
    }                                       \
  } while (0)

inline void Report(const std::string& name, const std::vector<std::string>& fails) {
  if (fails.empty()) {
    ++g_passed;
    return;
  }
  ++g_failed;
  printf("FAIL %s\n", name.c_str());
  for (const auto& f : fails) printf("    %s\n", f.c_str());
}

// Runs one corpus case: input is the case's bytes, exp its .json file.
using CaseFn = void (*)(const std::string& input, const Json& exp,
                        std::vector<std::string>* fails);

inline bool HasExtension(const std::string& name, const std::string& ext) {
  return name.size() > ext.size() &&
         name.compare(name.size() - ext.size(), ext.size(), ext) == 0;
}

// Runs every NAME.ext + NAME.json case in dir, in name order.
inline void RunCorpus(const std::string& dir, const std::string& ext, bool valid, CaseFn run,
                      int* count) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    printf("FAIL cannot open %s\n", dir.c_str());
    ++g_failed;
    return;
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (HasExtension(n, ext)) names.push_back(n.substr(0, n.size() - ext.size()));
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    std::vector<std::string> fails;
    std::string input, json_text;
    Json exp;
    if (!ReadFile(dir + "/" + n + ext, &input) ||
        !ReadFile(dir + "/" + n + ".json", &json_text)) {
      fails.push_back("cannot read the " + ext + " or .json file");
    } else if (!JsonReader(json_text).Read(&exp) || exp.kind != Json::kObj) {
      fails.push_back("bad json");
    } else {
      run(input, exp, &fails);
    }
    Report((valid ? "valid/" : "invalid/") + n, fails);
    ++*count;
  }
}

struct CorpusSuite {
  const char* prefix;       // of the summary lines, e.g. "uwsgi: "
  const char* example_dir;  // for the usage line, e.g. "test/uwsgi"
  const char* ext;          // of the case files, e.g. ".bin"
  CaseFn run_valid;
  CaseFn run_invalid;
  void (*unit_tests)();
};

// The main of a corpus test: runs CORPUS_DIR/valid and CORPUS_DIR/invalid, then
// the unit tests; prints "<prefix>N passed, N failed" last and exits 1 when
// anything failed.
inline int CorpusTestMain(int argc, char** argv, const CorpusSuite& suite) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR (e.g. %s)\n", argv[0], suite.example_dir);
    return 2;
  }
  const std::string dir = argv[1];
  int nvalid = 0, ninvalid = 0;
  RunCorpus(dir + "/valid", suite.ext, true, suite.run_valid, &nvalid);
  RunCorpus(dir + "/invalid", suite.ext, false, suite.run_invalid, &ninvalid);
  if (nvalid == 0 || ninvalid == 0) {
    printf("FAIL empty corpus in %s\n", dir.c_str());
    ++g_failed;
  }
  suite.unit_tests();
  printf("%scorpus: %d valid, %d invalid cases\n", suite.prefix, nvalid, ninvalid);
  printf("%s%d passed, %d failed\n", suite.prefix, g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}

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

#endif  // TSGI_TEST_NATIVE_SUPPORT_H_
