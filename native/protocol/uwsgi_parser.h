// tsgi — a strict, pure parser of uwsgi protocol request packets (what nginx's
// uwsgi_pass sends). No libuv, no N-API: bytes in, "consumed n / need more / bad" out.
//
// A packet is a 4-byte header: modifier1 (u8), the size of the vars block (u16,
// little-endian), modifier2 (u8); then the vars block: key/value pairs, each a u16
// little-endian length and that many bytes, key first. CONTENT_LENGTH bytes of body
// follow the packet.
#ifndef TSGI_NATIVE_UWSGI_PARSER_H_
#define TSGI_NATIVE_UWSGI_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <sys/types.h>

#include "protocol/http_parser.h"  // StrView, kParseNeedMore, kParseBad

namespace tsgi {

struct UwsgiVar {
  StrView key;
  StrView value;
};

struct UwsgiRequest {
  static constexpr size_t kMaxVars = 256;

  uint8_t modifier1 = 0;
  uint8_t modifier2 = 0;
  UwsgiVar vars[kMaxVars];
  size_t num_vars = 0;
  uint64_t content_length = 0;  // from CONTENT_LENGTH; 0 when absent or empty
  // Indices into vars of the variables the server needs, or -1 when absent.
  int request_method = -1;
  int request_uri = -1;
  int path_info = -1;
  int script_name = -1;
  int query_string = -1;
  int server_protocol = -1;
  int content_length_var = -1;
};

// Parses one uwsgi request packet from buf[0..len).
//
// Returns the bytes consumed (4 + the vars block's size; the body is not part of it)
// when the packet is complete and valid; kParseNeedMore when it is not complete yet;
// kParseBad, with *error set to a static sentence for the log, when:
//   - modifier1 is neither 0 (uWSGI's modifier for a WSGI request) nor 30 (the same,
//     with SCRIPT_NAME to be taken off PATH_INFO: nginx's "uwsgi_modifier1 30"), or
//     modifier2 is not 0;
//   - the vars block is larger than max_size (the server's buffer-size);
//   - a key or value length runs past the end of the vars block (a truncated pair),
//     or bytes are left over that cannot hold a pair;
//   - a key is empty, or holds a control byte, a space or DEL (bytes 0x80-0xFF are
//     allowed: nginx with ignore_invalid_headers off passes them on);
//   - there are more than kMaxVars pairs (uWSGI's own default is 64);
//   - CONTENT_LENGTH is present and is neither empty nor a decimal number below 10^19
//     (leading zeros allowed, as nginx passes the client's text on), or appears twice;
//   - REQUEST_METHOD is missing or empty.
// kParseNeedMore is returned only while len < 4 + the vars block's size, so a bad
// size is reported as soon as the header is in (an oversize block without reading it).
ssize_t ParseUwsgiPacket(const char* buf, size_t len, size_t max_size, UwsgiRequest* out,
                         const char** error);

}  // namespace tsgi

#endif  // TSGI_NATIVE_UWSGI_PARSER_H_
