#include "protocol/cgi_vars.h"

namespace tsgi {

namespace {
inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
}  // namespace

bool NameEquals(StrView name, const char* lower, size_t len) {
  if (name.len != len) return false;
  for (size_t i = 0; i < len; i++) {
    if (Lower(name.data[i]) != lower[i]) return false;
  }
  return true;
}

bool SameFieldName(StrView a, StrView b) {
  if (a.len != b.len) return false;
  for (size_t i = 0; i < a.len; i++) {
    if (Lower(a.data[i]) != Lower(b.data[i])) return false;
  }
  return true;
}

bool SkipField(StrView name) {
  return NameEquals(name, "content-type", 12) || NameEquals(name, "content-length", 14) ||
         NameEquals(name, "transfer-encoding", 17) ||
         std::memchr(name.data, '_', name.len) != nullptr;
}

void HttpKey(StrView name, std::string* out) {
  out->assign("HTTP_", 5);
  for (size_t k = 0; k < name.len; k++) {
    char c = name.data[k];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    else if (c == '-') c = '_';
    out->push_back(c);
  }
}

StrView ContentType(const HttpRequestHead& head) {
  for (size_t i = 0; i < head.num_headers; i++) {
    if (NameEquals(head.headers[i].name, "content-type", 12)) return head.headers[i].value;
  }
  return StrView{};
}

StrView StripScriptName(StrView path, StrView script_name) {
  size_t n = script_name.len;
  while (n > 0 && script_name.data[n - 1] == '/') n--;
  if (n == 0 || path.len < n || std::memcmp(path.data, script_name.data, n) != 0) return path;
  if (path.len > n && path.data[n] != '/') return path;
  return StrView{path.data + n, path.len - n};
}

}  // namespace tsgi
