#include "request_log.h"

#include <cstring>


namespace tsgi {

namespace {

// Formatting a date costs a localtime_r and a strftime: do it once a second.
thread_local time_t cached_second = -1;
thread_local char cached_date[64];
thread_local size_t cached_date_len = 0;

void AppendDate(std::string* out, time_t t) {
  if (t != cached_second) {
    struct tm tm;
    localtime_r(&t, &tm);
    cached_date_len = strftime(cached_date, sizeof cached_date, "%a %b %e %H:%M:%S %Y", &tm);
    cached_second = t;
  }
  out->append(cached_date, cached_date_len);
}

// snprintf costs more than the rest of the line together: write the digits.
void AppendNumber(std::string* out, unsigned long long n) {
  char buf[24];
  char* end = buf + sizeof buf;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  out->append(p, static_cast<size_t>(end - p));
}

// Appends text with control bytes (and backslashes) escaped as \xHH: over uwsgi, a
// front end's values may hold any byte, and a line feed in one would forge a log line.
void AppendEscaped(std::string* out, const char* s, size_t len) {
  static const char kHex[] = "0123456789abcdef";
  size_t start = 0;
  for (size_t i = 0; i < len; i++) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != 0x7f && c != '\\') continue;
    out->append(s + start, i - start);
    const char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
    out->append(esc, 4);
    start = i + 1;
  }
  out->append(s + start, len - start);
}

}  // namespace

void AppendRequestLogLine(std::string* out, const RequestLogEntry& e) {
  out->append("[pid: ");
  AppendNumber(out, static_cast<unsigned long long>(e.pid));
  out->append("|app: 0|req: ");
  AppendNumber(out, e.worker_requests);
  out->push_back('/');
  AppendNumber(out, e.total_requests);
  out->append("] ");
  AppendEscaped(out, e.remote_addr, std::strlen(e.remote_addr));
  out->append(" (");
  AppendEscaped(out, e.remote_user, std::strlen(e.remote_user));
  out->append(") {");
  AppendNumber(out, e.vars_count);
  out->append(" vars in ");
  AppendNumber(out, e.vars_bytes);
  out->append(" bytes} [");
  AppendDate(out, e.started);
  out->append("] ");
  AppendEscaped(out, e.method, e.method_len);
  out->push_back(' ');
  AppendEscaped(out, e.uri, e.uri_len);
  out->append(" => generated ");
  AppendNumber(out, e.body_bytes);
  out->append(" bytes in ");
  AppendNumber(out, e.msecs);
  out->append(" msecs (");
  AppendEscaped(out, e.protocol, std::strlen(e.protocol));
  out->push_back(' ');
  AppendNumber(out, static_cast<unsigned long long>(e.status));
  out->append(") ");
  AppendNumber(out, e.header_count);
  out->append(" headers in ");
  AppendNumber(out, e.header_bytes);
  out->append(" bytes (1 switches on core ");
  AppendNumber(out, static_cast<unsigned long long>(e.core));
  out->append(")\n");
}

}  // namespace tsgi
