// Log buffering: request lines (native/protocol/request_log.h, or a custom one made in
// JavaScript) and connection lines gather in one buffer, written in one write when it
// is full enough or a little later.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include "server/server.h"
#include "server/sys.h"

namespace tsgi {

void Server::LogRequest(Connection* c, uint64_t micros) {
  RequestState* rs = c->req;
  if (rs == nullptr) return;
  if (!ShouldLogRequest(cfg_.log_filter, c->resp_status, micros / 1000, c->resp_body_bytes)) return;
  if (on_log_ != nullptr) {
    LogRequestInJs(c, micros);
    return;
  }
  RequestLogEntry e;
  e.pid = pid_;
  e.worker_requests = requests_;
  e.total_requests = total_requests_;
  e.remote_addr = c->remote_addr;
  e.vars_count = rs->vars_count;
  e.vars_bytes = rs->vars_bytes;
  e.started = time(nullptr);
  e.method = rs->log_method.data();
  e.method_len = rs->log_method.size();
  e.uri = rs->log_uri.data();
  e.uri_len = rs->log_uri.size();
  e.body_bytes = c->resp_body_bytes;
  e.msecs = micros / 1000;
  e.protocol = rs->http10 ? "HTTP/1.0" : "HTTP/1.1";
  if (rs->uwsgi) {
    if (!rs->log_remote.empty()) e.remote_addr = rs->log_remote.c_str();
    e.protocol = rs->log_protocol.empty() ? "HTTP/1.1" : rs->log_protocol.c_str();
  }
  e.status = c->resp_status;
  e.header_count = c->resp_header_count;
  e.header_bytes = c->resp_head_bytes;
  e.core = cfg_.core;
  AppendRequestLogLine(&log_buf_, e);
  LogAppended();
}

// --logformat, --log-encoder json, --log-x-forwarded-for: the line is made in
// JavaScript from the request's environ (lib/logging/log-format.ts), called as
// onLog(id, status, bodyBytes, headerCount, headerBytes, micros, requests, varsCount,
// varsBytes); the string it returns (latin-1) joins the buffered lines.
void Server::LogRequestInJs(Connection* c, uint64_t micros) {
  napi_env env = env_;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  const double nums[] = {static_cast<double>(c->id), static_cast<double>(c->resp_status),
                         static_cast<double>(c->resp_body_bytes),
                         static_cast<double>(c->resp_header_count),
                         static_cast<double>(c->resp_head_bytes), static_cast<double>(micros),
                         static_cast<double>(requests_), static_cast<double>(c->req->vars_count),
                         static_cast<double>(c->req->vars_bytes)};
  napi_value argv[9];
  for (size_t i = 0; i < 9; i++) napi_create_double(env, nums[i], &argv[i]);
  napi_value fn, recv, result;
  napi_get_reference_value(env, on_log_, &fn);
  napi_get_global(env, &recv);
  if (napi_call_function(env, recv, fn, 9, argv, &result) == napi_ok) {
    size_t len = 0;
    if (napi_get_value_string_latin1(env, result, nullptr, 0, &len) == napi_ok && len > 0) {
      const size_t at = log_buf_.size();
      log_buf_.resize(at + len + 1);
      napi_get_value_string_latin1(env, result, &log_buf_[at], len + 1, &len);
      log_buf_.resize(at + len);
      LogAppended();
    }
  } else {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);  // a broken formatter costs the line only
  }
  napi_close_handle_scope(env, scope);
}

void Server::LogLine(const std::string& what, Connection* c) {
  if (cfg_.log_json) {
    const std::string peer = c->is_pipe ? std::string("unix") : std::string(c->remote_addr) + ":" + c->remote_port;
    AppendJsonConnectionLine(&log_buf_, WallMillis(), pid_, peer, what);
    LogAppended();
    return;
  }
  time_t t = time(nullptr);
  struct tm tm;
  localtime_r(&t, &tm);
  char date[64];
  strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
  char line[160];
  const bool unix_peer = c->is_pipe;
  int n = snprintf(line, sizeof line, "[pid: %ld] %s%s%s [%s] ", pid_,
                   unix_peer ? "unix" : c->remote_addr, unix_peer ? "" : ":",
                   unix_peer ? "" : c->remote_port, date);
  if (n > 0) {
    log_buf_.append(line, static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1);
    log_buf_ += what;  // may name a path: not cut to a buffer's size
    log_buf_ += '\n';
    LogAppended();
  }
}

void Server::FlushLog() {
  size_t off = 0;
  while (off < log_buf_.size()) {
    ssize_t n = write(cfg_.log_fd, log_buf_.data() + off, log_buf_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        // A non-blocking stderr that is full: wait for it as node's own stderr does.
        usleep(1000);
        continue;
      }
      break;
    }
    off += static_cast<size_t>(n);
  }
  log_buf_.clear();
  if (log_buf_.capacity() > 4 * kLogFlushBytes) std::string().swap(log_buf_);
  if (log_timer_armed_) {
    log_timer_armed_ = false;
    uv_timer_stop(&log_timer_);
  }
}

// Log lines wait in log_buf_ and go out in one write when 32 KiB have gathered, or
// 50 ms after the first of them, whichever comes first: a write per loop turn cost
// as much as formatting the lines under load.
void Server::OnFlushLog(uv_check_t* check) {
  Server* s = static_cast<Server*>(check->data);
  if (s->log_buf_.size() >= kLogFlushBytes) s->FlushLog();
}

void Server::OnLogTimer(uv_timer_t* timer) {
  Server* s = static_cast<Server*>(timer->data);
  if (!s->log_buf_.empty()) s->FlushLog();
}

void Server::LogAppended() {
  if (!log_timer_armed_) {
    log_timer_armed_ = true;
    uv_timer_start(&log_timer_, OnLogTimer, kLogFlushMs, 0);
  }
}

// close(acceptWaiting): stops accepting; idle connections close now, busy ones once
}  // namespace tsgi
