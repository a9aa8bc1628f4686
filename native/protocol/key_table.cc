#include "protocol/key_table.h"

namespace tsgi {

namespace {
inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
}  // namespace

uint32_t KeyTable::Hash(const char* name, size_t len) {
  uint32_t h = 2166136261u;  // FNV-1a over the lower-cased name
  for (size_t i = 0; i < len; i++) {
    h ^= static_cast<uint8_t>(Lower(name[i]));
    h *= 16777619u;
  }
  return h;
}

void KeyTable::Grow() {
  std::vector<Entry> old;
  old.swap(slots_);
  slots_.resize(old.empty() ? 64 : old.size() * 2);
  count_ = 0;
  for (Entry& e : old) {
    if (e.index != kMissing) Add(e.lower.data(), e.lower.size(), e.index);
  }
}

void KeyTable::Add(const char* name, size_t len, int index) {
  if (len == 0 || len > kMaxName) return;
  if ((count_ + 1) * 2 > slots_.size()) Grow();
  const uint32_t h = Hash(name, len);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    Entry& e = slots_[i];
    if (e.index == kMissing) {
      e.lower.resize(len);
      for (size_t k = 0; k < len; k++) e.lower[k] = Lower(name[k]);
      e.hash = h;
      e.index = index;
      count_++;
      return;
    }
  }
}

int KeyTable::Find(const char* name, size_t len) const {
  if (slots_.empty() || len == 0 || len > kMaxName) return kMissing;
  const uint32_t h = Hash(name, len);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Entry& e = slots_[i];
    if (e.index == kMissing) return kMissing;
    if (e.hash != h || e.lower.size() != len) continue;
    size_t k = 0;
    while (k < len && Lower(name[k]) == e.lower[k]) k++;
    if (k == len) return e.index;
  }
}

}  // namespace tsgi
