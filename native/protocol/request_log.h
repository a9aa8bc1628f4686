// tsgi — the request log line, in uWSGI's default shape (pure: no libuv, no N-API).
#ifndef TSGI_NATIVE_REQUEST_LOG_H_
#define TSGI_NATIVE_REQUEST_LOG_H_

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>

namespace tsgi {

struct RequestLogEntry {
  long pid = 0;
  uint64_t worker_requests = 0;  // this worker's count, this request included
  uint64_t total_requests = 0;   // the whole server's count
  const char* remote_addr = "";
  const char* remote_user = "";
  size_t vars_count = 0;
  size_t vars_bytes = 0;
  time_t started = 0;            // wall clock, seconds
  const char* method = "";
  size_t method_len = 0;
  const char* uri = "";
  size_t uri_len = 0;
  uint64_t body_bytes = 0;       // "generated N bytes": the body, without framing
  uint64_t msecs = 0;
  const char* protocol = "HTTP/1.1";
  int status = 0;
  size_t header_count = 0;
  size_t header_bytes = 0;       // the response head as written, status line included
  int core = 0;
};

// Which requests get a line (uWSGI's --disable-logging with --log-4xx, --log-5xx,
// --log-slow, --log-big): every one when all is set; else those that match a rule.
struct RequestLogFilter {
  bool all = true;
  bool status_4xx = false;
  bool status_5xx = false;
  uint64_t slow_ms = 0;    // 0: no rule; else msecs >= slow_ms
  uint64_t big_bytes = 0;  // 0: no rule; else body bytes >= big_bytes
};

// Whether a request with this status, time and body size is logged under f.
bool ShouldLogRequest(const RequestLogFilter& f, int status, uint64_t msecs, uint64_t body_bytes);

// Appends one line, newline included, to *out:
// [pid: P|app: 0|req: N/N] ADDR () {V vars in B bytes} [date] METHOD URI =>
//   generated B bytes in T msecs (PROTO STATUS) H headers in B bytes (1 switches on core C)
// The date is asctime's, in local time, as uWSGI writes it. Control bytes and
// backslashes in the address, method, URI and protocol are written as \xHH, so that
// no value can forge a line.
void AppendRequestLogLine(std::string* out, const RequestLogEntry& e);

// Appends s as a JSON string, quotes included: '"', '\\' and control bytes escaped
// (\u00XX); other bytes as they are (the request's bytes: UTF-8 stays UTF-8).
void AppendJsonString(std::string* out, const char* s, size_t len);

// Appends a connection's line for --log-encoder json (lib/protocol/request-log.ts
// formatConnectionLine is the twin): {"time":"2026-12-06T12:30:19.123Z","pid":P,
// "addr":"PEER","msg":"WHAT"} and a newline. ms: the wall clock in milliseconds.
void AppendJsonConnectionLine(std::string* out, uint64_t ms, long pid, const std::string& peer,
                              const std::string& what);

}  // namespace tsgi

#endif  // TSGI_NATIVE_REQUEST_LOG_H_
