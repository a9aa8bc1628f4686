// The corpus tests' bookkeeping (CHECK, FAIL_IF, the pass and fail counts) and their
// walk of a corpus folder.
#ifndef TSGI_TEST_NATIVE_SUPPORT_CORPUS_H_
#define TSGI_TEST_NATIVE_SUPPORT_CORPUS_H_

#include "support-json.h"

namespace tsgi {
namespace test {

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

}  // namespace test
}  // namespace tsgi

#endif  // TSGI_TEST_NATIVE_SUPPORT_CORPUS_H_
