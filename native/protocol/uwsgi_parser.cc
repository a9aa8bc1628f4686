// tsgi — a strict, pure parser of uwsgi protocol request packets. See uwsgi_parser.h.
//
// The 4-byte header is judged as soon as it is in: modifier1, modifier2, then the
// size against max_size. The vars block is judged only once all of it is in, in
// one forward pass with no allocation; until then the answer is kParseNeedMore,
// found in O(1). So a server that re-parses its growing buffer after every read
// does constant work per read, however slowly the packet arrives, and every prefix
// of a packet gives either kParseNeedMore or the very result the whole packet gives.
//
// Choices the contract leaves open (pinned by test/uwsgi, see its README.md):
//   - Errors are reported in the order the bytes are met: the header (modifier1,
//     modifier2, size), then pair by pair, then the missing REQUEST_METHOD.
//   - A key given more than once (other than CONTENT_LENGTH) is kept every time in
//     vars; its index points at the last one, as a dict built from vars in order
//     would have it (and as uWSGI does), so "include uwsgi_params; uwsgi_param
//     SERVER_NAME $host;" overrides.
//   - The 257th pair is refused when it starts, before its own bytes are judged.
//   - *error is written only when kParseBad is returned; error may be null. After
//     kParseNeedMore or kParseBad, *out holds nothing the caller should use.
#include "protocol/uwsgi_parser.h"

#include <cstring>

namespace tsgi {
namespace {

constexpr size_t kHeaderSize = 4;
constexpr unsigned char kModifierManagePathInfo = 30;  // uWSGI's UWSGI_MODIFIER_MANAGE_PATH_INFO

const char kErrModifier1[] =
    "uwsgi packet: modifier1 is not 0 or 30 (not a plain uwsgi request: HTTP sent to a "
    "uwsgi socket?)";
const char kErrModifier2[] = "uwsgi packet: modifier2 is not 0";
const char kErrTooBig[] = "uwsgi packet: vars block larger than buffer-size";
const char kErrStrayByte[] =
    "uwsgi packet: one byte left at the end of the vars block (a truncated key length)";
const char kErrEmptyKey[] = "uwsgi packet: empty key";
const char kErrKeyOverrun[] = "uwsgi packet: key runs past the end of the vars block";
const char kErrKeyByte[] = "uwsgi packet: key holds a control byte, a space or DEL";
const char kErrValueLenOverrun[] =
    "uwsgi packet: value length runs past the end of the vars block";
const char kErrValueOverrun[] = "uwsgi packet: value runs past the end of the vars block";
const char kErrTooManyVars[] = "uwsgi packet: more than 256 vars";
const char kErrContentLength[] =
    "uwsgi packet: CONTENT_LENGTH is neither empty nor a decimal number below 10^19";
const char kErrContentLengthTwice[] = "uwsgi packet: CONTENT_LENGTH appears twice";
const char kErrNoMethod[] = "uwsgi packet: REQUEST_METHOD is missing or empty";

static_assert(UwsgiRequest::kMaxVars == 256, "kErrTooManyVars names the limit");

inline size_t U16(const unsigned char* p) {
  return static_cast<size_t>(p[0]) | (static_cast<size_t>(p[1]) << 8);
}

inline bool KeyIs(const unsigned char* key, size_t len, const char* lit, size_t lit_len) {
  return len == lit_len && memcmp(key, lit, len) == 0;
}

#define TSGI_LIT(s) s, sizeof(s) - 1

ssize_t Bad(const char** error, const char* why) {
  if (error != nullptr) *error = why;
  return kParseBad;
}

}  // namespace

ssize_t ParseUwsgiPacket(const char* buf, size_t len, size_t max_size, UwsgiRequest* out,
                         const char** error) {
  out->modifier1 = 0;
  out->modifier2 = 0;
  out->num_vars = 0;
  out->content_length = 0;
  out->request_method = -1;
  out->request_uri = -1;
  out->path_info = -1;
  out->script_name = -1;
  out->query_string = -1;
  out->server_protocol = -1;
  out->content_length_var = -1;

  if (len < kHeaderSize) return kParseNeedMore;
  const unsigned char* const b = reinterpret_cast<const unsigned char*>(buf);
  out->modifier1 = b[0];
  out->modifier2 = b[3];
  if (b[0] != 0 && b[0] != kModifierManagePathInfo) return Bad(error, kErrModifier1);
  if (b[3] != 0) return Bad(error, kErrModifier2);
  const size_t size = U16(b + 1);
  if (size > max_size) return Bad(error, kErrTooBig);
  if (len - kHeaderSize < size) return kParseNeedMore;

  const unsigned char* p = b + kHeaderSize;
  const unsigned char* const end = p + size;
  while (p != end) {
    if (out->num_vars == UwsgiRequest::kMaxVars) return Bad(error, kErrTooManyVars);
    size_t left = static_cast<size_t>(end - p);
    if (left < 2) return Bad(error, kErrStrayByte);
    const size_t key_len = U16(p);
    p += 2;
    left -= 2;
    if (key_len == 0) return Bad(error, kErrEmptyKey);
    if (key_len > left) return Bad(error, kErrKeyOverrun);
    const unsigned char* const key = p;
    for (size_t i = 0; i < key_len; ++i) {
      // Visible ASCII, or 0x80-0xFF: nginx with ignore_invalid_headers off makes
      // "X-Caf\xe9" the key "HTTP_X_CAF\xe9".
      const unsigned char k = key[i];
      if (k <= 0x20 || k == 0x7f) return Bad(error, kErrKeyByte);
    }
    p += key_len;
    left -= key_len;
    if (left < 2) return Bad(error, kErrValueLenOverrun);
    const size_t value_len = U16(p);
    p += 2;
    left -= 2;
    if (value_len > left) return Bad(error, kErrValueOverrun);
    const unsigned char* const value = p;
    p += value_len;

    const int index = static_cast<int>(out->num_vars);
    UwsgiVar& var = out->vars[out->num_vars++];
    var.key.data = reinterpret_cast<const char*>(key);
    var.key.len = key_len;
    var.value.data = reinterpret_cast<const char*>(value);
    var.value.len = value_len;

    // The keys the server needs, told apart by length first.
    switch (key_len) {
      case 9:
        if (KeyIs(key, key_len, TSGI_LIT("PATH_INFO"))) out->path_info = index;
        break;
      case 11:
        if (KeyIs(key, key_len, TSGI_LIT("REQUEST_URI"))) out->request_uri = index;
        else if (KeyIs(key, key_len, TSGI_LIT("SCRIPT_NAME"))) out->script_name = index;
        break;
      case 12:
        if (KeyIs(key, key_len, TSGI_LIT("QUERY_STRING"))) out->query_string = index;
        break;
      case 14:
        if (KeyIs(key, key_len, TSGI_LIT("REQUEST_METHOD"))) {
          out->request_method = index;
        } else if (KeyIs(key, key_len, TSGI_LIT("CONTENT_LENGTH"))) {
          if (out->content_length_var >= 0) return Bad(error, kErrContentLengthTwice);
          out->content_length_var = index;
          // nginx passes the client's text on, leading zeros and all (ngx_atoof
          // accepts them): skip them, then at most 19 digits, below 10^19 < 2^64.
          size_t first = 0;
          while (first < value_len && value[first] == '0') ++first;
          if (value_len - first > 19) return Bad(error, kErrContentLength);
          uint64_t n = 0;
          for (size_t i = first; i < value_len; ++i) {
            const unsigned d = static_cast<unsigned>(value[i]) - static_cast<unsigned>('0');
            if (d > 9) return Bad(error, kErrContentLength);
            n = n * 10 + d;
          }
          out->content_length = n;
        }
        break;
      case 15:
        if (KeyIs(key, key_len, TSGI_LIT("SERVER_PROTOCOL"))) out->server_protocol = index;
        break;
      default:
        break;
    }
  }

  if (out->request_method < 0 ||
      out->vars[static_cast<size_t>(out->request_method)].value.len == 0) {
    return Bad(error, kErrNoMethod);
  }
  return static_cast<ssize_t>(kHeaderSize + size);
}

#undef TSGI_LIT

}  // namespace tsgi
