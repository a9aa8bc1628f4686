// tsgi — how a request head becomes CGI variables (pure: no libuv, no N-API).
#ifndef TSGI_NATIVE_CGI_VARS_H_
#define TSGI_NATIVE_CGI_VARS_H_

#include <cstddef>
#include <cstring>
#include <string>

#include "protocol/http_parser.h"
#include "protocol/key_table.h"

namespace tsgi {

bool NameEquals(StrView name, const char* lower, size_t len);

// "User-Agent" -> "HTTP_USER_AGENT", into *out.
void HttpKey(StrView name, std::string* out);

// The Content-Type field's value, or an empty view.
StrView ContentType(const HttpRequestHead& head);

// PATH_INFO with SCRIPT_NAME taken off its front (uwsgi's modifier1 30, and
// --manage-script-name). Only a whole prefix counts: what follows it in path is the end
// or a "/" (SCRIPT_NAME /app leaves /application alone, where uWSGI's plain prefix test
// would cut it), and a "/" ending script_name does not count. path unchanged otherwise.
StrView StripScriptName(StrView path, StrView script_name);

// Calls emit(key_index, name, value) once for each HTTP_* variable the head's fields
// make, in the order of their first occurrence: key_index is the field name's index
// in keys (KeyTable::kMissing when unknown: build the key with HttpKey(name)); value
// is the field's value, or, for a repeated field, all its values joined with ", "
// ("; " for Cookie), in *scratch. Content-Type and Content-Length (which have CGI
// variables of their own) and Transfer-Encoding (the body reaches the application
// de-chunked) make none; neither does a field whose name holds "_", which nginx drops
// too, so that "X_Forwarded_For" cannot pose as "X-Forwarded-For". For an
// absolute-form target, HTTP_HOST is the target's authority, which RFC 9112 §3.2.2
// puts in the place of Host: it replaces the Host field's value, or follows the
// fields when there is no Host field (name "Host").
template <typename Emit>
void ForEachHeaderVar(const HttpRequestHead& head, const KeyTable& keys, std::string* scratch,
                      Emit emit);

// --- implementation of the template ---

bool SameFieldName(StrView a, StrView b);
bool SkipField(StrView name);

template <typename Emit>
void ForEachHeaderVar(const HttpRequestHead& head, const KeyTable& keys, std::string* scratch,
                      Emit emit) {
  for (size_t i = 0; i < head.num_headers; i++) {
    const HeaderField& f = head.headers[i];
    if (SkipField(f.name)) continue;
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++) seen = SameFieldName(head.headers[j].name, f.name);
    if (seen) continue;  // joined into its first occurrence
    bool repeated = false;
    for (size_t j = i + 1; j < head.num_headers && !repeated; j++) {
      repeated = SameFieldName(head.headers[j].name, f.name);
    }
    const int index = keys.Find(f.name.data, f.name.len);
    if (!repeated) {
      // Host is never repeated (the parser refuses a second one).
      const bool host = head.authority.len > 0 && NameEquals(f.name, "host", 4);
      emit(index, f.name, host ? head.authority : f.value);
      continue;
    }
    const bool cookie = NameEquals(f.name, "cookie", 6);
    scratch->assign(f.value.data, f.value.len);
    for (size_t j = i + 1; j < head.num_headers; j++) {
      if (!SameFieldName(head.headers[j].name, f.name)) continue;
      scratch->append(cookie ? "; " : ", ", 2);
      scratch->append(head.headers[j].value.data, head.headers[j].value.len);
    }
    emit(index, f.name, StrView{scratch->data(), scratch->size()});
  }
  if (head.authority.len > 0 && !head.has_host) {
    emit(keys.Find("Host", 4), StrView{"Host", 4}, head.authority);
  }
}

}  // namespace tsgi

#endif  // TSGI_NATIVE_CGI_VARS_H_
