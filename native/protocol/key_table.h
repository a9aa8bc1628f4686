// tsgi — a fixed table of environ keys known to JavaScript, looked up by the header
// name they come from (pure: no libuv, no N-API).
//
// JavaScript hands the server its key strings once ("HTTP_HOST", "HTTP_USER_AGENT"
// ...); a request then names a known key by its index, so the crossing carries a small
// integer instead of a new string, and the environ gets an internalized key.
#ifndef TSGI_NATIVE_KEY_TABLE_H_
#define TSGI_NATIVE_KEY_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tsgi {

class KeyTable {
 public:
  static constexpr int kMissing = -1;
  static constexpr size_t kMaxName = 64;

  // Adds a header name (any case) for key index `index`.
  void Add(const char* name, size_t len, int index);
  // The index for a header name, compared without case, or kMissing.
  int Find(const char* name, size_t len) const;
  size_t size() const { return count_; }

 private:
  struct Entry {
    std::string lower;
    uint32_t hash = 0;
    int index = kMissing;
  };
  static uint32_t Hash(const char* name, size_t len);
  void Grow();
  std::vector<Entry> slots_;
  size_t count_ = 0;
};

}  // namespace tsgi

#endif  // TSGI_NATIVE_KEY_TABLE_H_
