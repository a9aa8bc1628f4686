// tsgi — a strict, pure parser of the PROXY protocol header (versions 1 and 2, as
// HAProxy's proxy-protocol.txt defines them) that a load balancer sends before the
// client's bytes with --enable-proxy-protocol. No libuv, no N-API: bytes in,
// "consumed n / need more / bad" out.
#ifndef TSGI_NATIVE_PROXY_PARSER_H_
#define TSGI_NATIVE_PROXY_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <sys/types.h>

#include "protocol/http_parser.h"  // kParseNeedMore, kParseBad

namespace tsgi {

struct ProxyHeader {
  // 1 or 2: the version the header was in.
  int version = 0;
  // False when the connection's own peer stays its address: a v2 LOCAL command (the
  // proxy's own health check), v1 UNKNOWN, or a v2 family or transport other than
  // TCP over IPv4 or IPv6 (UNSPEC, UDP, unix).
  bool has_address = false;
  bool v6 = false;
  // The client (source) and the address it connected to (destination), as text
  // (inet_ntop's canonical form), when has_address.
  char src_addr[46] = {0};
  char dst_addr[46] = {0};
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
};

// The longest v1 header, CRLF included.
constexpr size_t kProxyV1MaxLength = 107;

// Parses the PROXY protocol header at the start of buf[0..len).
//
// Returns the bytes the header takes (v1: up to its CRLF; v2: 16 plus its length,
// the TLVs that follow the addresses skipped) when it is complete and valid;
// kParseNeedMore while what is there is a proper prefix of a header that may still
// be valid; kParseBad, with *error set to a static sentence for the log, as soon as
// the bytes cannot be one:
//   - they start with neither "PROXY " nor v2's 12-byte signature;
//   - v1: no CRLF within 107 bytes; a protocol other than TCP4, TCP6 or UNKNOWN; not
//     exactly four fields, single-space separated, after TCP4/TCP6; an address that
//     is not a dotted quad (TCP4) or an IPv6 address (TCP6); a port that is not a
//     decimal from 0 to 65535 without leading zeros; a lone CR or LF;
//   - v2: a version other than 2; a command other than LOCAL (0) or PROXY (1); an
//     address block shorter than its family needs (12 bytes for IPv4, 36 for IPv6,
//     216 for unix).
ssize_t ParseProxyHeader(const char* buf, size_t len, ProxyHeader* out, const char** error);

}  // namespace tsgi

#endif  // TSGI_NATIVE_PROXY_PARSER_H_
