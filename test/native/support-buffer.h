// The native tests' common ground (test/native/support.h names the parts): the
// standard headers they use, the guard-page buffer, reading a file, and printing
// bytes with CR and LF by name.
#ifndef TSGI_TEST_NATIVE_SUPPORT_BUFFER_H_
#define TSGI_TEST_NATIVE_SUPPORT_BUFFER_H_


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

inline bool HasExtension(const std::string& name, const std::string& ext) {
  return name.size() > ext.size() &&
         name.compare(name.size() - ext.size(), ext.size(), ext) == 0;
}

}  // namespace test
}  // namespace tsgi

#endif  // TSGI_TEST_NATIVE_SUPPORT_BUFFER_H_
