// tsgi — CGI variables built from a parsed request head (pure: no libuv, no N-API).
#ifndef TSGI_NATIVE_CGI_VARS_H_
#define TSGI_NATIVE_CGI_VARS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "http_parser.h"

namespace tsgi {

// A flat list of key/value pairs kept in one arena, in the order they were added.
// This is what crosses into JavaScript as the request's environ, whatever the
// protocol that carried the request.
class VarList {
 public:
  void Clear() {
    arena_.clear();
    idx_.clear();
  }
  // Appends a pair. Returns its index.
  size_t Add(const char* key, size_t key_len, const char* value, size_t value_len);
  size_t Add(const char* key, const char* value, size_t value_len);
  // Replaces the value of pair i (the old bytes stay in the arena until Clear).
  void SetValue(size_t i, const char* value, size_t value_len);
  size_t size() const { return idx_.size() / 4; }
  StrView key(size_t i) const { return View(idx_[i * 4], idx_[i * 4 + 1]); }
  StrView value(size_t i) const { return View(idx_[i * 4 + 2], idx_[i * 4 + 3]); }
  // The size the pairs take in a uwsgi packet (2 + key + 2 + value each): what the
  // request log reports as "{N vars in B bytes}".
  size_t packet_bytes() const;
  // Memory held, for the idle-connection accounting.
  size_t capacity() const { return arena_.capacity() + idx_.capacity() * 4; }
  void ShrinkIfOver(size_t bytes);

 private:
  StrView View(uint32_t off, uint32_t len) const {
    return StrView{arena_.data() + off, len};
  }
  std::string arena_;
  std::vector<uint32_t> idx_;  // key offset, key length, value offset, value length
};

// What the connection, not the request, contributes to the environ.
struct ConnInfo {
  const char* remote_addr = "";
  const char* remote_port = "";
  const char* server_name = "";
  const char* server_port = "";
  const char* scheme = "http";
};

// Fills *vars with the CGI variables of an HTTP request, in the order nginx's
// uwsgi_params sends them (QUERY_STRING, REQUEST_METHOD, CONTENT_TYPE,
// CONTENT_LENGTH, REQUEST_URI, PATH_INFO, SCRIPT_NAME, SERVER_PROTOCOL,
// REQUEST_SCHEME, REMOTE_ADDR, REMOTE_PORT, SERVER_PORT, SERVER_NAME), then one
// HTTP_<NAME> per header field name, repeated fields joined by ", " (Cookie by
// "; "). PATH_INFO is percent-decoded, byte for byte. CONTENT_TYPE and
// CONTENT_LENGTH are always present, empty when the request has none.
// Content-Length and Content-Type do not appear again as HTTP_*; Transfer-Encoding
// does not appear (the body reaches the application de-chunked, with its length in
// CONTENT_LENGTH); a field whose name holds "_" is dropped, as nginx does, so that
// "X_Forwarded_For" cannot pose as "X-Forwarded-For".
// Returns false when the request-target is of no form a server accepts (the caller
// answers 400). *content_length_index receives the index of CONTENT_LENGTH so that
// a chunked body's length can be set once it is known.
bool BuildHttpVars(const HttpRequestHead& head, const ConnInfo& conn, VarList* vars,
                   size_t* content_length_index);

}  // namespace tsgi

#endif  // TSGI_NATIVE_CGI_VARS_H_
