#include "server/sys.h"

#include <uv.h>

#include <cstring>

namespace tsgi {

namespace {

// strerror_r is GNU's (returns the text) or XSI's (returns 0, the text is in buf),
// depending on the C library: one of these fits whichever it is.
[[maybe_unused]] const char* StrerrorResult(const char* text, const char*) { return text; }
[[maybe_unused]] const char* StrerrorResult(int, const char* buf) { return buf; }

}  // namespace

std::string DescribeErrno(int err) {
  char text[128] = "";
  char name[32] = "";
  std::string out = StrerrorResult(strerror_r(err, text, sizeof text), text);
  uv_err_name_r(uv_translate_sys_error(err), name, sizeof name);
  return out + " (" + name + ")";
}

uint64_t WallMillis() {
  uv_timeval64_t tv;
  uv_gettimeofday(&tv);
  return static_cast<uint64_t>(tv.tv_sec) * 1000 + static_cast<uint64_t>(tv.tv_usec) / 1000;
}

}  // namespace tsgi
