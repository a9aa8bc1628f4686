#include "protocol/proxy_parser.h"

#include <arpa/inet.h>

#include <cstring>

namespace tsgi {

namespace {

constexpr char kV1Prefix[] = "PROXY ";
constexpr size_t kV1PrefixLength = 6;
constexpr unsigned char kV2Signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                            0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr size_t kV2HeaderLength = 16;

ssize_t Bad(const char** error, const char* why) {
  *error = why;
  return kParseBad;
}

// A port: a decimal from 0 to 65535, no sign, no leading zero (but "0").
bool ParsePort(const char* p, size_t n, uint16_t* out) {
  if (n == 0 || n > 5 || (n > 1 && p[0] == '0')) return false;
  uint32_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return false;
    v = v * 10 + static_cast<uint32_t>(p[i] - '0');
  }
  if (v > 65535) return false;
  *out = static_cast<uint16_t>(v);
  return true;
}

// An address of the family, written back in its canonical form.
bool ParseAddress(const char* p, size_t n, bool v6, char* out) {
  char text[64];
  if (n == 0 || n >= sizeof text) return false;
  std::memcpy(text, p, n);
  text[n] = '\0';
  unsigned char bin[16];
  if (inet_pton(v6 ? AF_INET6 : AF_INET, text, bin) != 1) return false;
  return inet_ntop(v6 ? AF_INET6 : AF_INET, bin, out, 46) != nullptr;
}

ssize_t ParseV1(const char* buf, size_t len, ProxyHeader* out, const char** error) {
  // The line: up to CRLF, within 107 bytes.
  const size_t scan = len < kProxyV1MaxLength - 1 ? len : kProxyV1MaxLength - 1;  // CR at 105 at most
  size_t end = 0;  // index of the CR
  bool found = false;
  for (size_t i = kV1PrefixLength; i < scan; i++) {
    if (buf[i] == '\r') {
      if (i + 1 >= len) return kParseNeedMore;
      if (buf[i + 1] != '\n') return Bad(error, "PROXY v1 header: a CR not followed by LF");
      end = i;
      found = true;
      break;
    }
    if (buf[i] == '\n') return Bad(error, "PROXY v1 header: a LF without CR");
  }
  if (!found) {
    if (len < kProxyV1MaxLength - 1) return kParseNeedMore;
    return Bad(error, "PROXY v1 header: no CRLF within 107 bytes");
  }
  const ssize_t consumed = static_cast<ssize_t>(end + 2);
  const char* p = buf + kV1PrefixLength;
  const char* const e = buf + end;
  out->version = 1;
  if (static_cast<size_t>(e - p) >= 7 && std::memcmp(p, "UNKNOWN", 7) == 0 &&
      (e - p == 7 || p[7] == ' ')) {
    out->has_address = false;  // the rest of the line is to be ignored
    return consumed;
  }
  if (e - p < 5 || (std::memcmp(p, "TCP4 ", 5) != 0 && std::memcmp(p, "TCP6 ", 5) != 0)) {
    return Bad(error, "PROXY v1 header: the protocol is not TCP4, TCP6 or UNKNOWN");
  }
  const bool v6 = p[3] == '6';
  p += 5;
  // Four fields, one space between each.
  const char* field[4];
  size_t flen[4];
  for (int f = 0; f < 4; f++) {
    const char* sp = static_cast<const char*>(std::memchr(p, ' ', static_cast<size_t>(e - p)));
    const char* stop = f < 3 ? sp : e;
    if (stop == nullptr || (f == 3 && sp != nullptr)) {
      return Bad(error, "PROXY v1 header: not four fields (source, destination, ports)");
    }
    field[f] = p;
    flen[f] = static_cast<size_t>(stop - p);
    p = stop + (f < 3 ? 1 : 0);
  }
  if (!ParseAddress(field[0], flen[0], v6, out->src_addr) ||
      !ParseAddress(field[1], flen[1], v6, out->dst_addr)) {
    return Bad(error, v6 ? "PROXY v1 header: an address is not IPv6"
                         : "PROXY v1 header: an address is not IPv4");
  }
  if (!ParsePort(field[2], flen[2], &out->src_port) ||
      !ParsePort(field[3], flen[3], &out->dst_port)) {
    return Bad(error, "PROXY v1 header: a port is not a decimal from 0 to 65535");
  }
  out->has_address = true;
  out->v6 = v6;
  return consumed;
}

uint16_t Be16(const unsigned char* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

ssize_t ParseV2(const unsigned char* b, size_t len, ProxyHeader* out, const char** error) {
  if (len < kV2HeaderLength) {
    if (len > 12 && (b[12] >> 4) != 2) return Bad(error, "PROXY v2 header: the version is not 2");
    if (len > 12 && (b[12] & 0x0F) > 1) return Bad(error, "PROXY v2 header: the command is neither LOCAL nor PROXY");
    return kParseNeedMore;
  }
  if ((b[12] >> 4) != 2) return Bad(error, "PROXY v2 header: the version is not 2");
  const int command = b[12] & 0x0F;
  if (command > 1) return Bad(error, "PROXY v2 header: the command is neither LOCAL nor PROXY");
  const size_t block = Be16(b + 14);
  const int family = b[13] >> 4;
  const int transport = b[13] & 0x0F;
  const size_t need = family == 1 ? 12 : family == 2 ? 36 : family == 3 ? 216 : 0;
  if (block < need) return Bad(error, "PROXY v2 header: the address block is shorter than its family needs");
  if (len < kV2HeaderLength + block) return kParseNeedMore;
  out->version = 2;
  out->has_address = false;
  // PROXY over TCP (STREAM) on IPv4 or IPv6 gives the addresses; LOCAL, UNSPEC, UDP
  // and unix keep the connection's own peer.
  if (command == 1 && transport == 1 && (family == 1 || family == 2)) {
    const unsigned char* a = b + kV2HeaderLength;
    const bool v6 = family == 2;
    const size_t alen = v6 ? 16 : 4;
    inet_ntop(v6 ? AF_INET6 : AF_INET, a, out->src_addr, sizeof out->src_addr);
    inet_ntop(v6 ? AF_INET6 : AF_INET, a + alen, out->dst_addr, sizeof out->dst_addr);
    out->src_port = Be16(a + 2 * alen);
    out->dst_port = Be16(a + 2 * alen + 2);
    out->v6 = v6;
    out->has_address = true;
  }
  return static_cast<ssize_t>(kV2HeaderLength + block);
}

}  // namespace

ssize_t ParseProxyHeader(const char* buf, size_t len, ProxyHeader* out, const char** error) {
  *out = ProxyHeader();
  *error = nullptr;
  if (len == 0) return kParseNeedMore;
  const auto* b = reinterpret_cast<const unsigned char*>(buf);
  if (b[0] == 'P') {
    const size_t n = len < kV1PrefixLength ? len : kV1PrefixLength;
    if (std::memcmp(buf, kV1Prefix, n) != 0) return Bad(error, "no PROXY protocol header");
    if (len < kV1PrefixLength) return kParseNeedMore;
    return ParseV1(buf, len, out, error);
  }
  const size_t n = len < sizeof kV2Signature ? len : sizeof kV2Signature;
  if (std::memcmp(b, kV2Signature, n) != 0) return Bad(error, "no PROXY protocol header");
  if (len < sizeof kV2Signature) return kParseNeedMore;
  return ParseV2(b, len, out, error);
}

}  // namespace tsgi
