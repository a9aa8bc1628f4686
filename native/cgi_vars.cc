#include "cgi_vars.h"

#include <cstring>

namespace tsgi {

namespace {

bool EqualsNoCase(StrView a, const char* b, size_t b_len) {
  if (a.len != b_len) return false;
  for (size_t i = 0; i < b_len; i++) {
    char c = a.data[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != b[i]) return false;
  }
  return true;
}

bool SameName(StrView a, StrView b) {
  if (a.len != b.len) return false;
  for (size_t i = 0; i < a.len; i++) {
    char x = a.data[i], y = b.data[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// Thread-local scratch for building keys and joined values without allocating
// per request.
thread_local std::string scratch_key;
thread_local std::string scratch_value;

}  // namespace

size_t VarList::Add(const char* key, size_t key_len, const char* value,
                    size_t value_len) {
  uint32_t koff = static_cast<uint32_t>(arena_.size());
  arena_.append(key, key_len);
  uint32_t voff = static_cast<uint32_t>(arena_.size());
  arena_.append(value, value_len);
  idx_.push_back(koff);
  idx_.push_back(static_cast<uint32_t>(key_len));
  idx_.push_back(voff);
  idx_.push_back(static_cast<uint32_t>(value_len));
  return size() - 1;
}

size_t VarList::Add(const char* key, const char* value, size_t value_len) {
  return Add(key, std::strlen(key), value, value_len);
}

void VarList::SetValue(size_t i, const char* value, size_t value_len) {
  uint32_t voff = static_cast<uint32_t>(arena_.size());
  arena_.append(value, value_len);
  idx_[i * 4 + 2] = voff;
  idx_[i * 4 + 3] = static_cast<uint32_t>(value_len);
}

size_t VarList::packet_bytes() const {
  size_t n = 0;
  for (size_t i = 0; i < size(); i++) n += 4 + idx_[i * 4 + 1] + idx_[i * 4 + 3];
  return n;
}

void VarList::ShrinkIfOver(size_t bytes) {
  if (capacity() > bytes) {
    std::string().swap(arena_);
    std::vector<uint32_t>().swap(idx_);
  }
}

bool BuildHttpVars(const HttpRequestHead& head, const ConnInfo& conn, VarList* vars,
                   size_t* content_length_index) {
  StrView path, query, authority;
  if (!SplitTarget(head.target, &path, &query, &authority)) return false;

  vars->Clear();
  vars->Add("QUERY_STRING", query.data, query.len);
  vars->Add("REQUEST_METHOD", head.method.data, head.method.len);

  StrView content_type{};
  for (size_t i = 0; i < head.num_headers; i++) {
    if (EqualsNoCase(head.headers[i].name, "content-type", 12)) {
      content_type = head.headers[i].value;
      break;
    }
  }
  vars->Add("CONTENT_TYPE", content_type.data, content_type.len);
  char num[24];
  size_t num_len = 0;
  if (head.framing == BodyFraming::kContentLength) {
    num_len = static_cast<size_t>(
        snprintf(num, sizeof num, "%llu",
                 static_cast<unsigned long long>(head.content_length)));
  }
  *content_length_index = vars->Add("CONTENT_LENGTH", num, num_len);
  vars->Add("REQUEST_URI", head.target.data, head.target.len);

  scratch_value.clear();
  PercentDecode(path.data, path.len, &scratch_value);
  vars->Add("PATH_INFO", scratch_value.data(), scratch_value.size());
  vars->Add("SCRIPT_NAME", "", 0);
  vars->Add("SERVER_PROTOCOL", head.minor_version == 0 ? "HTTP/1.0" : "HTTP/1.1", 8);
  vars->Add("REQUEST_SCHEME", conn.scheme, std::strlen(conn.scheme));
  vars->Add("REMOTE_ADDR", conn.remote_addr, std::strlen(conn.remote_addr));
  vars->Add("REMOTE_PORT", conn.remote_port, std::strlen(conn.remote_port));
  vars->Add("SERVER_PORT", conn.server_port, std::strlen(conn.server_port));
  vars->Add("SERVER_NAME", conn.server_name, std::strlen(conn.server_name));

  for (size_t i = 0; i < head.num_headers; i++) {
    const HeaderField& f = head.headers[i];
    if (EqualsNoCase(f.name, "content-type", 12) ||
        EqualsNoCase(f.name, "content-length", 14) ||
        EqualsNoCase(f.name, "transfer-encoding", 17)) {
      continue;
    }
    if (std::memchr(f.name.data, '_', f.name.len) != nullptr) continue;
    // A repeated field was joined into its first occurrence already.
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++) seen = SameName(head.headers[j].name, f.name);
    if (seen) continue;

    scratch_key.assign("HTTP_", 5);
    for (size_t k = 0; k < f.name.len; k++) {
      char c = f.name.data[k];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      else if (c == '-') c = '_';
      scratch_key.push_back(c);
    }
    bool repeated = false;
    for (size_t j = i + 1; j < head.num_headers && !repeated; j++) {
      repeated = SameName(head.headers[j].name, f.name);
    }
    if (!repeated) {
      vars->Add(scratch_key.data(), scratch_key.size(), f.value.data, f.value.len);
      continue;
    }
    const bool cookie = EqualsNoCase(f.name, "cookie", 6);
    scratch_value.assign(f.value.data, f.value.len);
    for (size_t j = i + 1; j < head.num_headers; j++) {
      if (!SameName(head.headers[j].name, f.name)) continue;
      scratch_value.append(cookie ? "; " : ", ", 2);
      scratch_value.append(head.headers[j].value.data, head.headers[j].value.len);
    }
    vars->Add(scratch_key.data(), scratch_key.size(), scratch_value.data(),
              scratch_value.size());
  }
  return true;
}

}  // namespace tsgi
