// The native tests' JSON reader, for the corpus files' expected results.
#ifndef TSGI_TEST_NATIVE_SUPPORT_JSON_H_
#define TSGI_TEST_NATIVE_SUPPORT_JSON_H_

#include "support-buffer.h"

namespace tsgi {
namespace test {

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

}  // namespace test
}  // namespace tsgi

#endif  // TSGI_TEST_NATIVE_SUPPORT_JSON_H_
