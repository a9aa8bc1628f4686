#include "protocol/response.h"

#include <cstring>

namespace tsgi {

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
