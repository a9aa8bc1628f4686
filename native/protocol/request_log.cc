#include "protocol/request_log.h"

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

void AppendJsonString(std::string* out, const char* s, size_t len) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t start = 0;
  for (size_t i = 0; i < len; i++) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s + start, i - start);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else {
      const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out->append(esc, 6);
    }
    start = i + 1;
  }
  out->append(s + start, len - start);
  out->push_back('"');
}

void AppendJsonConnectionLine(std::string* out, uint64_t ms, long pid, const std::string& peer,
                              const std::string& what) {
  const time_t t = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char date[40];
  size_t n = strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  const unsigned frac = static_cast<unsigned>(ms % 1000);
  date[n++] = '.';
  date[n++] = static_cast<char>('0' + frac / 100);
  date[n++] = static_cast<char>('0' + frac / 10 % 10);
  date[n++] = static_cast<char>('0' + frac % 10);
  date[n++] = 'Z';
  out->append("{\"time\":\"");
  out->append(date, n);
  out->append("\",\"pid\":");
  AppendNumber(out, static_cast<unsigned long long>(pid));
  out->append(",\"addr\":");
  AppendJsonString(out, peer.data(), peer.size());
  out->append(",\"msg\":");
  AppendJsonString(out, what.data(), what.size());
  out->append("}\n");
}

bool ShouldLogRequest(const RequestLogFilter& f, int status, uint64_t msecs, uint64_t body_bytes) {
  if (f.all) return true;
  if (f.status_4xx && status >= 400 && status <= 499) return true;
  if (f.status_5xx && status >= 500 && status <= 599) return true;
  if (f.slow_ms > 0 && msecs >= f.slow_ms) return true;
  return f.big_bytes > 0 && body_bytes >= f.big_bytes;
}

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
