#include "protocol/response.h"

#include <cstring>

#include "wire.h"

namespace tsgi {

namespace {

void AppendHex(std::string* out, uint64_t n) {
  static const char kDigits[] = "0123456789abcdef";
  char buf[24];
  char* p = buf + sizeof buf;
  do {
    *--p = kDigits[n & 15];
    n >>= 4;
  } while (n != 0);
  out->append(p, static_cast<size_t>(buf + sizeof buf - p));
}

}  // namespace

void AppendDecimal(std::string* out, uint64_t n) {
  char buf[24];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  out->append(p, static_cast<size_t>(buf + sizeof buf - p));
}

Framing FramingOf(uint32_t send_flags, bool keep_alive, bool http10, bool closing) {
  Framing f;
  f.add_length = (send_flags & kSendAddLength) != 0;
  f.chunked = (send_flags & kSendChunked) != 0;
  f.close = (send_flags & kSendClose) != 0 || !keep_alive || closing;
  f.http10 = http10;
  return f;
}

size_t BeginHead(std::string* out) {
  const size_t start = out->size();
  out->append("HTTP/1.1 ", 9);
  return start;
}

HeadFacts EndHead(std::string* out, size_t start, const Framing& f, uint64_t content_length) {
  HeadFacts facts;
  const size_t at = start + 9;  // after "HTTP/1.1 "
  const size_t len = out->size() - at;
  const char* h = out->data() + at;
  facts.status = len >= 3 ? (h[0] - '0') * 100 + (h[1] - '0') * 10 + (h[2] - '0') : 0;
  size_t lines = 0;
  for (const char* p = h; (p = static_cast<const char*>(std::memchr(p, '\n', len - static_cast<size_t>(p - h)))); p++) {
    lines++;
  }
  facts.header_count = lines > 0 ? lines - 1 : 0;  // the status line is not a header
  if (f.add_length) {
    out->append("Content-Length: ", 16);
    AppendDecimal(out, content_length);
    out->append("\r\n", 2);
    facts.header_count++;
  }
  if (f.chunked) {
    out->append("Transfer-Encoding: chunked\r\n", 28);
    facts.header_count++;
  }
  if (f.close) {
    out->append("Connection: close\r\n", 19);
    facts.header_count++;
  } else if (f.http10) {
    out->append("Connection: keep-alive\r\n", 24);
    facts.header_count++;
  }
  out->append("\r\n", 2);
  facts.head_bytes = out->size() - start;
  return facts;
}

void AppendChunk(std::string* out, const char* data, size_t len) {
  if (len == 0) return;
  AppendHex(out, len);
  out->append("\r\n", 2);
  out->append(data, len);
  out->append("\r\n", 2);
}

void AppendLastChunk(std::string* out) { out->append("0\r\n\r\n", 5); }

const char* RefusalText(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

void AppendRefusal(std::string* out, int status) {
  const char* text = RefusalText(status);
  const size_t text_len = std::strlen(text);
  out->append("HTTP/1.1 ");
  AppendDecimal(out, static_cast<uint64_t>(status));
  out->push_back(' ');
  out->append(text, text_len);
  out->append("\r\nContent-Type: text/plain\r\nContent-Length: ");
  AppendDecimal(out, text_len + 1);
  out->append("\r\nConnection: close\r\n\r\n");
  out->append(text, text_len);
  out->push_back('\n');
}

}  // namespace tsgi
