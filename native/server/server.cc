#include "server/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "protocol/request_log.h"
#include "process/scoreboard.h"
#include "process/sockets.h"
#include "protocol/uwsgi_parser.h"
#include "protocol/proxy_parser.h"

namespace tsgi {

// What a request needs while it is in progress: its variables, its body and the
// chunked decoder. Pooled by the server, so an idle connection holds none.
struct RequestState {
  // The head, copied aside when the body arrives in later reads (the read buffer is
  // shared); parsed again when the body is complete.
  std::string head_bytes;
  bool uwsgi = false;  // head_bytes is a uwsgi packet, not an HTTP head
  BodySink sink;
  ChunkedDecoder decoder;
  BodyFraming framing = BodyFraming::kNone;
  uint64_t remaining = 0;  // Content-Length bytes still due
  bool keep_alive = true;
  bool http10 = false;
  // For the log line, kept only while logging is on.
  std::string log_method;
  std::string log_uri;
  std::string log_remote;    // uwsgi: the client's address as the front end saw it
  std::string log_protocol;  // uwsgi: SERVER_PROTOCOL as the front end saw it
  size_t vars_count = 0;
  size_t vars_bytes = 0;
  // Under a master, from dispatch to its end: its place among the requests in progress
  // (Server::in_progress_, for the scoreboard).
  InProgressEntry progress;
};

// Every entry into JavaScript from a libuv callback runs inside a BatchScope: the
// output it makes is corked and flushed, one write per connection, when the
// outermost scope ends.
struct BatchScope {
  explicit BatchScope(Server* s) : server(s), scope(s->env_) { s->batch_depth_++; }
  ~BatchScope() {
    if (--server->batch_depth_ == 0) server->FlushDirty();
  }
  Server* server;
  Napi::HandleScope scope;
};

namespace {

constexpr uint64_t kSlotBits = 20;
constexpr uint64_t kSlotMask = (1u << kSlotBits) - 1;

const char* StatusText(int status) {
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

// Writes n in decimal at the end of buf[0..24); returns where it starts.
char* FormatDecimal(uint64_t n, char* end) {
  char* p = end;
  do {
    *--p = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  return p;
}

void AppendDecimal(std::string* out, uint64_t n) {
  char buf[24];
  char* p = FormatDecimal(n, buf + sizeof buf);
  out->append(p, static_cast<size_t>(buf + sizeof buf - p));
}

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

void FormatAddress(const struct sockaddr_storage* ss, char* addr, size_t addr_len,
                   char* port, size_t port_len) {
  if (ss->ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const struct sockaddr_in6*>(ss);
    uv_ip6_name(a, addr, addr_len);
    snprintf(port, port_len, "%u", ntohs(a->sin6_port));
  } else if (ss->ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const struct sockaddr_in*>(ss);
    uv_ip4_name(a, addr, addr_len);
    snprintf(port, port_len, "%u", ntohs(a->sin_port));
  } else {
    addr[0] = '\0';
    port[0] = '\0';
  }
}

struct WriteReq {
  uv_write_t req;
  std::string data;
  size_t len;
};

// strerror_r is GNU's (returns the text) or XSI's (returns 0, the text is in buf),
// depending on the C library: one of these fits whichever it is.
[[maybe_unused]] const char* StrerrorResult(const char* text, const char*) { return text; }
[[maybe_unused]] const char* StrerrorResult(int, const char* buf) { return buf; }

// "No such file or directory (ENOENT)": uWSGI's wording of an errno, and its name,
// which is what an operator searches for.
std::string DescribeErrno(int err) {
  char text[128] = "";
  char name[32] = "";
  std::string out = StrerrorResult(strerror_r(err, text, sizeof text), text);
  uv_err_name_r(uv_translate_sys_error(err), name, sizeof name);
  return out + " (" + name + ")";
}

// accept() errors that belong to the connection being accepted, not to the server:
// it is gone, and the next one may be accepted at once (accept(2) asks that network
// errors already pending on the new socket be treated so).
bool IsTransientAcceptError(int err) {
  switch (err) {
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case ENETDOWN:
    case ENETUNREACH:
      return true;
    default:
      return false;
  }
}

// accept4 on a listening socket: a connection's descriptor (non-blocking, close-on-exec)
// and its peer, or -errno (-EAGAIN: none waiting).
int AcceptOne(int listen_fd, struct sockaddr_storage* peer) {
  socklen_t len = sizeof *peer;
  const int fd = accept4(listen_fd, reinterpret_cast<struct sockaddr*>(peer), &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
  return fd >= 0 ? fd : -errno;
}

// Connections taken from a listener in one wake-up at most: the poll is level
// triggered, so the rest are taken on the next loop turn, after other work.
constexpr int kAcceptBatch = 1024;
constexpr uint64_t kAcceptLogIntervalMs = 1000;

}  // namespace

Napi::Function Server::Init(Napi::Env env) {
  return DefineClass(env, "Server",
                     {
                         InstanceMethod("listen", &Server::Listen),
                         InstanceMethod("listenUnix", &Server::ListenUnix),
                         InstanceMethod("listenFd", &Server::ListenFd),
                         InstanceMethod("noteException", &Server::NoteException),
                         InstanceMethod("send", &Server::Send),
                         InstanceMethod("close", &Server::Close),
                         InstanceMethod("destroy", &Server::Destroy),
                         InstanceMethod("stats", &Server::Stats),
                         InstanceMethod("setRequestCounter", &Server::SetRequestCounter),
                     });
}

// new Server({ bufferSize, postBuffering, limitPost, timeoutMs, tmpDir, logging,
//              manageScriptName, logFd, core, serverName, onRequest, onDrain, onAbort,
//              onClose })
// The options are validated in TypeScript (lib/options.ts); here they are trusted.
Server::Server(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Server>(info), env_(info.Env()) {
  Napi::Object o = info[0].As<Napi::Object>();
  auto num = [&](const char* k, double def) {
    Napi::Value v = o.Get(k);
    return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : def;
  };
  cfg_.buffer_size = static_cast<size_t>(num("bufferSize", 4096));
  cfg_.post_buffering = static_cast<size_t>(num("postBuffering", 65536));
  cfg_.limit_post = static_cast<uint64_t>(num("limitPost", 0));
  cfg_.timeout_ms = static_cast<uint64_t>(num("timeoutMs", 60000));
  cfg_.log_fd = static_cast<int>(num("logFd", 2));
  cfg_.core = static_cast<int>(num("core", 0));
  Napi::Value tmp = o.Get("tmpDir");
  if (tmp.IsString()) cfg_.tmp_dir = tmp.As<Napi::String>().Utf8Value();
  Napi::Value logging = o.Get("logging");
  cfg_.log_filter.all = !logging.IsBoolean() || logging.As<Napi::Boolean>().Value();
  auto flag = [&](const char* k) {
    Napi::Value v = o.Get(k);
    return v.IsBoolean() && v.As<Napi::Boolean>().Value();
  };
  cfg_.log_json = flag("logJson");
  cfg_.log_filter.status_4xx = flag("log4xx");
  cfg_.log_filter.status_5xx = flag("log5xx");
  cfg_.log_filter.slow_ms = static_cast<uint64_t>(num("logSlow", 0));
  cfg_.log_filter.big_bytes = static_cast<uint64_t>(num("logBig", 0));
  cfg_.logging = cfg_.log_filter.all || cfg_.log_filter.status_4xx || cfg_.log_filter.status_5xx ||
                 cfg_.log_filter.slow_ms > 0 || cfg_.log_filter.big_bytes > 0;
  cfg_.manage_script_name = flag("manageScriptName");
  cfg_.proxy_protocol = flag("proxyProtocol");
  Napi::Value sb_fd = o.Get("scoreboardFd");
  if (sb_fd.IsNumber()) {
    const size_t slots = static_cast<size_t>(num("scoreboardSlots", 1));
    const size_t slot = static_cast<size_t>(num("scoreboardSlot", 0));
    scoreboard_.reset(new Scoreboard());
    if (scoreboard_->Map(sb_fd.As<Napi::Number>().Int32Value(), slots)) {
      slot_ = scoreboard_->slot(slot);
      in_progress_.set_slot(slot_);
    }
  }
  Napi::Value name = o.Get("serverName");
  if (name.IsString()) server_name_ = name.As<Napi::String>().Utf8Value();

  auto ref = [&](const char* k, napi_ref* out) {
    Napi::Value v = o.Get(k);
    if (v.IsFunction()) napi_create_reference(env_, v, 1, out);
  };
  ref("onRequest", &on_request_);
  ref("onDrain", &on_drain_);
  ref("onAbort", &on_abort_);
  ref("onClose", &on_close_);
  ref("onLog", &on_log_);
  // The keys and methods tables: JavaScript's own (internalized) strings, named by
  // index on each request.
  Napi::Value keys = o.Get("keys");
  if (keys.IsArray()) {
    Napi::Array a = keys.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      std::string k = a.Get(i).As<Napi::String>().Utf8Value();
      var_keys_.Add(k.data(), k.size(), static_cast<int>(i));
      if (k.compare(0, 5, "HTTP_") != 0) continue;
      std::string name = k.substr(5);
      for (char& ch : name) ch = ch == '_' ? '-' : ch;
      keys_.Add(name.data(), name.size(), static_cast<int>(i));
    }
  }
  Napi::Value methods = o.Get("methods");
  if (methods.IsArray()) {
    Napi::Array a = methods.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      methods_.push_back(a.Get(i).As<Napi::String>().Utf8Value());
    }
  }
  napi_value resource_name;
  napi_create_string_utf8(env_, "tsgi:request", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env_, nullptr, resource_name, &async_context_);

  napi_get_uv_event_loop(env_, &loop_);
  pid_ = static_cast<long>(getpid());
  read_buf_ = new char[kReadBufferSize];
  http_head_.reset(new HttpRequestHead());
  uwsgi_req_.reset(new UwsgiRequest());

  uv_timer_init(loop_, &tick_);
  tick_.data = this;
  uv_idle_init(loop_, &resume_idle_);
  resume_idle_.data = this;
  uv_check_init(loop_, &log_check_);
  log_check_.data = this;
  uv_timer_init(loop_, &log_timer_);
  log_timer_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&tick_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&log_check_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&log_timer_));
  uint64_t tick = cfg_.timeout_ms / 4;
  if (tick < 50) tick = 50;
  if (tick > 1000) tick = 1000;
  tick_interval_ = tick;
  uv_timer_start(&tick_, OnTick, tick, tick);
  uv_check_start(&log_check_, OnFlushLog);

  handles_open_ = true;
  Ref();
  referenced_ = true;
}

Server::~Server() {
  // The object is held (Ref) from construction until every handle is closed
  // (FinishClose), so no libuv handle can outlive it; what is left here is memory.
  if (on_request_) napi_delete_reference(env_, on_request_);
  if (on_drain_) napi_delete_reference(env_, on_drain_);
  if (on_abort_) napi_delete_reference(env_, on_abort_);
  if (on_log_) napi_delete_reference(env_, on_log_);
  if (on_close_) napi_delete_reference(env_, on_close_);
  if (async_context_) napi_async_destroy(env_, async_context_);
  if (reserve_fd_ >= 0) close(reserve_fd_);
  delete[] read_buf_;
}

// listen(host, port, backlog) -> [address, port, family, fd]. host is a numeric IPv4 or
// IPv6 address (lib/address.ts resolves names). Throws an Error whose code is
// libuv's (EADDRINUSE, EACCES, EADDRNOTAVAIL...).
Napi::Value Server::Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string host = info[0].As<Napi::String>().Utf8Value();
  int port = info[1].As<Napi::Number>().Int32Value();
  int backlog = info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 511;
  const Protocol protocol =
      info[3].IsNumber() && info[3].As<Napi::Number>().Int32Value() == kProtocolUwsgi
          ? kProtocolUwsgi
          : kProtocolHttp;

  // Bound as the master binds (sockets.cc: it parses the address, which lib/address.ts
  // has checked already), and accepted from by the server itself.
  BoundTcp bound;
  const int r = BindTcpSocket(host, port, backlog, &bound);
  if (!StartListener(env, r < 0 ? r : bound.fd, false, protocol,
                     "cannot listen on " + host + ":" + std::to_string(port))) {
    return env.Undefined();
  }
  Napi::Array result = Napi::Array::New(env, 4);
  result.Set(0u, Napi::String::New(env, bound.address));
  result.Set(1u, Napi::Number::New(env, bound.port));
  result.Set(2u, Napi::String::New(env, bound.v6 ? "IPv6" : "IPv4"));
  result.Set(3u, Napi::Number::New(env, bound.fd));  // the listener's, for its queue's length
  return result;
}

// listenUnix(path, backlog, protocol) -> path. A path starting with "@" is a Linux
// abstract socket ("@name" binds "\0name"). The stale-file check, the mode and the
// owner are lib/unix-socket.ts's; here the socket is only bound.
Napi::Value Server::ListenUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int backlog = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 511;
  const Protocol protocol =
      info[2].IsNumber() && info[2].As<Napi::Number>().Int32Value() == kProtocolUwsgi
          ? kProtocolUwsgi
          : kProtocolHttp;
  // Bound here, not with uv_pipe_bind: libuv would unlink the file when the handle
  // closes, and a socket file stays unless --vacuum removes it, as in uWSGI.
  const int fd = BindUnixSocket(path, backlog);
  if (!StartListener(env, fd, true, protocol, "cannot listen on " + path)) {
    return env.Undefined();
  }
  return Napi::String::New(env, path);
}

// listenFd(fd, protocol) -> index: adopts a socket that a master bound and this
// process inherited (TCP or unix, found from the socket itself), and accepts on it.
Napi::Value Server::ListenFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // A copy of the descriptor: the listener's close closes it, and other cores of the
  // same process (--threads) accept on the same socket through copies of their own.
  const int fd = dup(info[0].As<Napi::Number>().Int32Value());
  const Protocol protocol =
      info[1].IsNumber() && info[1].As<Napi::Number>().Int32Value() == kProtocolUwsgi
          ? kProtocolUwsgi
          : kProtocolHttp;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (fd < 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    if (fd >= 0) close(fd);
    Napi::Error::New(env, "fd " + std::to_string(info[0].As<Napi::Number>().Int32Value()) + " is not a socket").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Already listening, with the master's backlog.
  if (!StartListener(env, fd, ss.ss_family == AF_UNIX, protocol,
                     "cannot accept on fd " + std::to_string(fd))) {
    return env.Undefined();
  }
  return Napi::Number::New(env, listeners_.back()->index);
}

// noteException(): the application failed on a request (for the scoreboard).
Napi::Value Server::NoteException(const Napi::CallbackInfo& info) {
  if (slot_ != nullptr) slot_->exceptions.fetch_add(1, std::memory_order_relaxed);
  return info.Env().Undefined();
}

// Accepts on fd, a listening socket (or -errno: why there is none), and registers it.
// The listener owns fd from here, on failure too. On failure throws an Error whose code
// is libuv's (EADDRINUSE, EACCES...) and returns false.
bool Server::StartListener(Napi::Env env, int fd, bool is_pipe, Protocol protocol,
                           const std::string& what) {
  auto fail = [&](int err) {
    Napi::Error e = Napi::Error::New(env, what + ": " + uv_strerror(err));
    e.Set("code", Napi::String::New(env, uv_err_name(err)));
    e.ThrowAsJavaScriptException();
    return false;
  };
  if (fd < 0) return fail(uv_translate_sys_error(-fd));
  // The descriptor kept in reserve for refusing connections when the process runs out
  // (AcceptFailed): a server that cannot keep one even now will not be able to say so
  // later; better it does not start.
  if (reserve_fd_ < 0) reserve_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (reserve_fd_ < 0) {
    const int err = errno;
    close(fd);
    return fail(uv_translate_sys_error(err));
  }
  auto* l = new Listener();
  l->server = this;
  l->fd = fd;
  l->is_pipe = is_pipe;
  l->protocol = protocol;
  // uv_poll_init makes fd non-blocking (for an inherited socket, the master's and the
  // other workers' too: they share the open file, and none of them blocks on it).
  int r = uv_poll_init(loop_, &l->poll, fd);
  if (r != 0) {
    close(fd);
    delete l;
    return fail(r);
  }
  l->poll.data = l;
  r = uv_poll_start(&l->poll, UV_READABLE, OnAcceptable);
  if (r != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&l->poll), OnListenerClosed);
    open_listeners_++;  // OnListenerClosed counts it off
    return fail(r);
  }
  l->index = listen_count_++;
  listeners_.push_back(l);
  open_listeners_++;
  return true;
}

// A listener is readable: connections are waiting. Takes them with accept4 (which
// gives the peer's address too) until none is left, or a batch is taken.
void Server::OnAcceptable(uv_poll_t* poll, int status, int events) {
  auto* l = static_cast<Listener*>(poll->data);
  Server* s = l->server;
  if (status < 0) {  // the poll itself failed: as good as a failed accept()
    s->AcceptFailed(l, -status);
    return;
  }
  for (int i = 0; i < kAcceptBatch; i++) {
    struct sockaddr_storage peer;
    const int fd = AcceptOne(l->fd, &peer);
    if (fd < 0) {
      if (fd == -EAGAIN || fd == -EWOULDBLOCK) return;
      if (IsTransientAcceptError(-fd)) continue;
      s->AcceptFailed(l, -fd);
      return;
    }
    s->Accept(l, fd, peer);
    // The request it read may have run JavaScript that closed the server.
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&l->poll))) return;
  }
}

// accept() on l failed with err. Out of descriptors (EMFILE, ENFILE), the connections
// waiting are refused: the descriptor kept in reserve is given up, so that each can be
// accepted and closed at once (libuv's answer, which it gives without a word). The
// clients learn it now instead of timing out in the queue, and the listener does not
// stay readable, which would spin the loop. Any other error, or no reserve to give up,
// leaves the listener unpolled until the next tick. Either way it is counted and logged.
void Server::AcceptFailed(Listener* l, int err) {
  bool drained = false;
  int64_t refused = -1;
  if (err == EMFILE || err == ENFILE) {
    // accept() takes a descriptor before it looks at the queue, so it fails so when no
    // connection waits at all: after the one that took the last descriptor, say. Only
    // a client turned away counts.
    struct pollfd waiting = {l->fd, POLLIN, 0};
    if (poll(&waiting, 1, 0) == 0) return;
    refused = RefuseWaiting(l, &drained);
    if (refused == 0 && drained) return;  // its client gave up meanwhile
  }
  if (!drained && !l->paused && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&l->poll))) {
    PauseListener(l);
  }
  // The connection whose accept() failed is among those refused; when they could not
  // be refused (no reserve), the failed call is what is counted.
  if (refused > 0) {
    l->unlogged_refused += static_cast<uint64_t>(refused);
  } else {
    l->unlogged_failed++;
  }
  const uint64_t n = refused > 0 ? static_cast<uint64_t>(refused) : 1;
  accept_errors_ += n;
  if (slot_ != nullptr) slot_->accept_errors.fetch_add(n, std::memory_order_relaxed);
  l->last_error = err;
  if (uv_now(loop_) >= l->next_log_at) LogAcceptFailures(l);
}

void Server::PauseListener(Listener* l) {
  uv_poll_stop(&l->poll);
  l->paused = true;
  if (paused_listeners_++ == 0) uv_ref(reinterpret_cast<uv_handle_t*>(&tick_));
}

// poll_again false: the listener is closing, it is only counted off.
void Server::ResumeListener(Listener* l, bool poll_again) {
  l->paused = false;
  if (poll_again) uv_poll_start(&l->poll, UV_READABLE, OnAcceptable);
  if (--paused_listeners_ == 0) uv_unref(reinterpret_cast<uv_handle_t*>(&tick_));
}

// Accepts and closes the connections waiting on l, with the reserve descriptor's
// place. Returns how many, or -1 when there is no reserve to give up; *drained says
// that none is left waiting.
int64_t Server::RefuseWaiting(Listener* l, bool* drained) {
  if (reserve_fd_ < 0) reserve_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (reserve_fd_ < 0) return -1;
  close(reserve_fd_);
  reserve_fd_ = -1;
  int64_t refused = 0;
  for (int i = 0; i < kAcceptBatch; i++) {
    const int fd = accept4(l->fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      close(fd);
      refused++;
      continue;
    }
    if (IsTransientAcceptError(errno)) continue;
    // EMFILE again: another thread took the place; the tick tries again.
    *drained = errno == EAGAIN || errno == EWOULDBLOCK;
    break;
  }
  if (refused == kAcceptBatch) *drained = true;  // more to come: the next loop turn
  reserve_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  return refused;
}

// One line for the failures on l since the last one, and not another within a second.
// Together the lines count every failure: "N connections refused" is how many clients
// were turned away.
void Server::LogAcceptFailures(Listener* l) {
  if (l->unlogged_refused == 0 && l->unlogged_failed == 0) return;
  const int err = l->last_error;
  std::string line = "tsgi: accept() on socket " + std::to_string(l->index) + ": " +
                     DescribeErrno(err) + ": ";
  auto count = [&](uint64_t n, const char* one, const char* many) {
    line += std::to_string(n);
    line += n == 1 ? one : many;
  };
  if (l->unlogged_refused > 0) count(l->unlogged_refused, " connection refused", " connections refused");
  if (l->unlogged_refused > 0 && l->unlogged_failed > 0) line += ", ";
  if (l->unlogged_failed > 0) count(l->unlogged_failed, " failed accept()", " failed accept()s");
  if (l->logged_before) line += " since the last line";
  if (l->unlogged_failed > 0 && l->paused) {
    line += ", accepting again within " + std::to_string(tick_interval_) + " ms";
  }
  if (err == EMFILE) {
    struct rlimit rl;
    line += "; raise the limit (ulimit -n";
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
      line += ", now " + std::to_string(static_cast<uint64_t>(rl.rlim_cur));
    }
    line += ") or lower the load";
  } else if (err == ENFILE) {
    line += "; the system's open file table is full: raise fs.file-max or lower the load";
  } else if (err == ENOMEM || err == ENOBUFS) {
    line += "; the system is short of memory";
  }
  line += "\n";
  log_buf_ += line;
  LogAppended();
  l->unlogged_refused = 0;
  l->unlogged_failed = 0;
  l->logged_before = true;
  l->next_log_at = uv_now(loop_) + kAcceptLogIntervalMs;
}

// Stops accepting: each listener's last failures are logged, then it is closed.
void Server::CloseListeners() {
  for (Listener* l : listeners_) {
    if (l->paused) ResumeListener(l, false);
    LogAcceptFailures(l);
    uv_close(reinterpret_cast<uv_handle_t*>(&l->poll), OnListenerClosed);
  }
  listeners_.clear();
}

size_t Server::TakeProxyHeader(Connection* c, const char* data, size_t len) {
  ProxyHeader h;
  const char* why = nullptr;
  const ssize_t r = ParseProxyHeader(data, len, &h, &why);
  if (r == kParseNeedMore) return 0;
  if (r == kParseBad) {
    // A PROXY listener must not answer what is not from its proxy: no response, the
    // connection is closed, the line says why.
    LogLine(std::string("refused: ") + why + " (--enable-proxy-protocol): connection closed", c);
    CloseConnection(c, false);
    return SIZE_MAX;
  }
  c->proxy_pending = false;
  if (h.has_address) {  // else (LOCAL, UNKNOWN, another family) the real peer stays
    snprintf(c->remote_addr, sizeof c->remote_addr, "%s", h.src_addr);
    snprintf(c->remote_port, sizeof c->remote_port, "%u", static_cast<unsigned>(h.src_port));
    c->is_pipe = false;  // a unix listener's connection now has an address to log
  }
  return static_cast<size_t>(r);
}

// fd: a connection accept4 just gave (non-blocking), from peer.
void Server::AcceptWaiting(Listener* l) {
  for (int i = 0; i < kAcceptBatch; i++) {
    struct sockaddr_storage peer;
    const int fd = AcceptOne(l->fd, &peer);
    // None left (or none to be had): what comes after is reset by the close.
    if (fd >= 0) Accept(l, fd, peer, false);
    else if (!IsTransientAcceptError(-fd)) return;
  }
}

void Server::Accept(Listener* l, int fd, const struct sockaddr_storage& peer, bool read_now) {
  auto* c = new Connection();
  c->server = this;
  // What the connection needs of its listener is copied: a graceful close frees the
  // listener while its connections are still served.
  c->protocol = l->protocol;
  c->is_pipe = l->is_pipe;
  c->listener_index = l->index;
  c->proxy_pending = cfg_.proxy_protocol && l->protocol == kProtocolHttp;
  uv_tcp_init(loop_, &c->h.tcp);  // for a unix socket too (see StreamHandle)
  c->h.handle.data = c;
  if (uv_tcp_open(&c->h.tcp, fd) != 0) {
    close(fd);
    uv_close(&c->h.handle, [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
    return;
  }
  if (!l->is_pipe) {
    uv_tcp_nodelay(&c->h.tcp, 1);
    FormatAddress(&peer, c->remote_addr, sizeof c->remote_addr, c->remote_port,
                  sizeof c->remote_port);
  }
  if (free_slots_.empty()) {
    if (slots_.size() > kSlotMask) {  // over a million connections: refuse this one
      uv_close(&c->h.handle, [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
      return;
    }
    c->slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back(c);
  } else {
    c->slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[c->slot] = c;
  }
  c->next = conns_;
  if (conns_) conns_->prev = c;
  conns_ = c;
  conn_count_++;
  if (slot_ != nullptr) slot_->connections.store(conn_count_, std::memory_order_relaxed);
  c->deadline = uv_now(loop_) + cfg_.timeout_ms;
  // Read at once, before the socket is watched: a front end (nginx over uwsgi opens a
  // connection per request) or a client without keep-alive has usually written its
  // request by now, and a connection answered and closed from here is never added to
  // epoll. Until the read is done c->reading means "reading is wanted": the code it
  // runs may stop reading (a bound) or close, and the watch starts only if it did not.
  c->reading = true;
  if (read_now) {
    ssize_t n;
    do {
      n = read(fd, read_buf_, kReadBufferSize);
    } while (n < 0 && errno == EINTR);
    if (n > 0 || n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
      uv_buf_t buf = uv_buf_init(read_buf_, kReadBufferSize);
      OnRead(&c->h.stream, n > 0 ? n : n == 0 ? UV_EOF : -errno, &buf);
    }
  }
  if (c->reading && c->state != Connection::State::kClosing) {
    uv_read_start(&c->h.stream, OnAlloc, OnRead);
  }
}

void Server::OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(handle->data);
  buf->base = c->server->read_buf_;
  buf->len = kReadBufferSize;
}

void Server::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(stream->data);
  Server* s = c->server;
  if (nread == 0) return;
  if (c->state == Connection::State::kClosing) return;
  if (nread < 0) {
    // EOF or an error. A request the application still holds is abandoned: the
    // client went away (a half-closed client counts as gone, as node:http has it).
    BatchScope batch(s);
    s->CloseConnection(c, true);
    return;
  }
  if (c->state == Connection::State::kLingering) return;  // dropped
  BatchScope batch(s);
  const size_t n = static_cast<size_t>(nread);
  if (c->state == Connection::State::kDispatched || c->close_after || c->output_blocked ||
      !c->inbuf.empty()) {
    c->inbuf.append(buf->base, n);
    if (c->state == Connection::State::kDispatched || c->close_after || c->output_blocked) {
      s->UpdateReading(c);  // pipelined bytes wait for a response, or for the output
      return;
    }
    if (c->protocol == kProtocolHttp && c->state == Connection::State::kHead &&
        c->inbuf.size() < s->cfg_.buffer_size && std::memchr(buf->base, '\n', n) == nullptr) {
      // A head can only complete on a line end: a client sending a byte at a time
      // does not make us parse the whole head again for each byte.
      return;
    }
    s->ProcessInbuf(c);
    return;
  }
  size_t used = s->Process(c, buf->base, n);
  if (used < n && c->state != Connection::State::kClosing && !c->close_after) {
    c->inbuf.assign(buf->base + used, n - used);
  }
  s->UpdateReading(c);
}

void Server::ProcessInbuf(Connection* c) {
  // Process may call into JavaScript, which never touches inbuf; take it aside so
  // that bytes arriving later append to a fresh one.
  std::string data;
  data.swap(c->inbuf);
  size_t used = Process(c, data.data(), data.size());
  if (c->state == Connection::State::kClosing || c->close_after) return;
  if (used < data.size()) {
    data.erase(0, used);
    data.append(c->inbuf);
    c->inbuf.swap(data);
  }
  UpdateReading(c);
}

void Server::UpdateReading(Connection* c) {
  if (c->state == Connection::State::kClosing || c->state == Connection::State::kLingering) {
    return;  // lingering reads until EOF (StartLingering); closing reads nothing
  }
  const bool waiting = c->state == Connection::State::kDispatched || c->close_after ||
                       c->output_blocked;
  const bool want = !(waiting && c->inbuf.size() > cfg_.buffer_size + kReadBufferSize);
  if (want && !c->reading) {
    c->reading = true;
    uv_read_start(&c->h.stream, OnAlloc, OnRead);
  } else if (!want && c->reading) {
    uv_read_stop(&c->h.stream);
    c->reading = false;
  }
}

size_t Server::Process(Connection* c, const char* data, size_t len) {
  size_t off = 0;
  while (off < len) {
    if ((c->output_blocked || Queued(c) > kHighWater) &&
        c->state == Connection::State::kIdle) {
      // A client that pipelines requests faster than it reads the answers: take no
      // more requests until what is queued for it is down to kLowWater (AfterOutput
      // takes them up again), so that its answers cannot pile up in memory, and its
      // write timeout can run out. The caller keeps the rest aside and reads on up to
      // a bound (UpdateReading). A resume queued before the output blocked again
      // (OnResume) ends here too, not in a request taken while blocked.
      c->output_blocked = true;
      return off;
    }
    if (c->close_after || c->state == Connection::State::kClosing ||
        c->state == Connection::State::kDispatched ||
        c->state == Connection::State::kLingering) {
      return off;
    }
    if (c->state == Connection::State::kBody) {
      size_t used = FeedBody(c, data + off, len - off);
      if (used == SIZE_MAX) return len;
      off += used;
      continue;
    }
    if (c->proxy_pending) {  // only with --enable-proxy-protocol: one test when off
      const size_t used = TakeProxyHeader(c, data + off, len - off);
      if (used == SIZE_MAX) return len;
      if (used == 0) return off;
      off += used;
      continue;
    }
    // The head, in the listener's protocol; what follows is the same for both.
    const bool uwsgi = c->protocol == kProtocolUwsgi;
    HttpError error = HttpError::kNone;
    const char* why = nullptr;
    ssize_t r;
    BodyFraming framing;
    uint64_t content_length;
    bool keep_alive, http10, expect_continue;
    if (uwsgi) {
      r = ParseUwsgiPacket(data + off, len - off, cfg_.buffer_size, uwsgi_req_.get(), &why);
      const UwsgiRequest& u = *uwsgi_req_;
      content_length = u.content_length;
      framing = content_length > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
      keep_alive = false;  // one request per connection, as uWSGI and nginx have it
      http10 = true;       // no chunked coding: the close ends the response
      expect_continue = false;
    } else {
      r = ParseRequestHead(data + off, len - off, cfg_.buffer_size, http_head_.get(), &error);
      const HttpRequestHead& h = *http_head_;
      framing = h.framing;
      content_length = h.content_length;
      keep_alive = h.keep_alive;
      http10 = h.minor_version == 0;
      expect_continue = h.expect_continue;
    }
    if (r == kParseNeedMore) {
      if (c->state == Connection::State::kIdle) {
        // The head has begun: it must be complete within the timeout, however
        // slowly its bytes come.
        c->state = Connection::State::kHead;
        c->deadline = uv_now(loop_) + cfg_.timeout_ms;
      }
      return off;
    }
    if (r < 0) {
      if (uwsgi) {
        // A malformed packet comes from a front end, not a browser: no HTTP answer,
        // the connection is closed, and the log says why.
        RefusePacket(c, why ? why : "malformed uwsgi packet");
      } else {
        const HttpErrorInfo& e = DescribeHttpError(error);
        Refuse(c, e.status, e.reason);
      }
      return len;
    }
    RequestState* rs = AcquireRequest();
    c->req = rs;
    rs->uwsgi = uwsgi;
    rs->keep_alive = keep_alive;
    rs->http10 = http10;
    rs->framing = framing;
    const size_t head_at = off;
    off += static_cast<size_t>(r);

    if (framing == BodyFraming::kNone ||
        (framing == BodyFraming::kContentLength && content_length == 0)) {
      DispatchHead(c, nullptr, 0);
      continue;
    }
    if (framing == BodyFraming::kContentLength && cfg_.limit_post &&
        content_length > cfg_.limit_post) {
      Refuse(c, 413, "body over limit-post");  // over uwsgi too: nginx passes it on
      return len;
    }
    if (framing == BodyFraming::kContentLength && content_length <= len - off &&
        content_length <= cfg_.post_buffering) {
      // The whole body is at hand: it goes to JavaScript straight from here.
      size_t n = static_cast<size_t>(content_length);
      DispatchHead(c, data + off, n);
      off += n;
      continue;
    }
    rs->head_bytes.assign(data + head_at, static_cast<size_t>(r));
    int err;
    if (framing == BodyFraming::kContentLength) {
      rs->remaining = content_length;
      err = rs->sink.Begin(content_length, true, cfg_.post_buffering, cfg_.tmp_dir);
    } else {
      rs->decoder.Reset();
      err = rs->sink.Begin(0, false, cfg_.post_buffering, cfg_.tmp_dir);
    }
    if (err < 0) {
      RefuseBody(c, err);
      return len;
    }
    c->state = Connection::State::kBody;
    c->deadline = uv_now(loop_) + cfg_.timeout_ms;
    if (expect_continue && !rs->http10 && off == len) {
      c->out.append("HTTP/1.1 100 Continue\r\n\r\n");
      MarkDirty(c);
    }
  }
  return off;
}

namespace {
struct SinkCtx {
  BodySink* sink;
  int err;
  uint64_t limit;
};
void SinkData(void* ctx, const char* data, size_t len) {
  auto* s = static_cast<SinkCtx*>(ctx);
  if (s->err) return;
  if (s->limit && s->sink->size() + len > s->limit) {
    s->err = -EFBIG;
    return;
  }
  s->err = s->sink->Append(data, len);
}
}  // namespace

size_t Server::FeedBody(Connection* c, const char* data, size_t len) {
  RequestState* rs = c->req;
  c->deadline = uv_now(loop_) + cfg_.timeout_ms;  // progress resets the body timeout
  if (rs->framing == BodyFraming::kContentLength) {
    size_t n = len < rs->remaining ? len : static_cast<size_t>(rs->remaining);
    const int err = rs->sink.Append(data, n);
    if (err < 0) {
      RefuseBody(c, err);
      return SIZE_MAX;
    }
    rs->remaining -= n;
    if (rs->remaining == 0) DispatchBuffered(c);
    return n;
  }
  SinkCtx ctx{&rs->sink, 0, cfg_.limit_post};
  size_t consumed = 0;
  ChunkedDecoder::Result r = rs->decoder.Feed(data, len, &consumed, SinkData, &ctx);
  if (ctx.err == -EFBIG) {
    Refuse(c, 413, "body over limit-post");
    return SIZE_MAX;
  }
  if (ctx.err < 0) {
    RefuseBody(c, ctx.err);
    return SIZE_MAX;
  }
  if (r == ChunkedDecoder::Result::kBad) {
    const HttpErrorInfo& e = DescribeHttpError(rs->decoder.error());
    Refuse(c, e.status, e.reason);
    return SIZE_MAX;
  }
  if (r == ChunkedDecoder::Result::kNeedMore) return len;
  DispatchBuffered(c);
  return consumed;
}

// The head of a request whose body was buffered across reads: parse it again from
// the copy (its views into the read buffer are long gone), then dispatch.
void Server::DispatchBuffered(Connection* c) {
  RequestState* rs = c->req;
  if (rs->uwsgi) {
    const char* why = nullptr;
    ParseUwsgiPacket(rs->head_bytes.data(), rs->head_bytes.size(), rs->head_bytes.size(),
                     uwsgi_req_.get(), &why);
  } else {
    HttpError error;
    ParseRequestHead(rs->head_bytes.data(), rs->head_bytes.size(),
                     rs->head_bytes.size() + 1, http_head_.get(), &error);
  }
  DispatchHead(c, nullptr, 0);
}

// Dispatches the head just parsed into http_head_ or uwsgi_req_.
void Server::DispatchHead(Connection* c, const char* body, size_t body_len) {
  if (c->req->uwsgi) {
    DispatchUwsgi(c, *uwsgi_req_, body, body_len);
  } else {
    Dispatch(c, *http_head_, body, body_len);
  }
}

namespace {

// napi_create_string_latin1 wants a pointer even for an empty string.
inline napi_value Latin1(napi_env env, const char* data, size_t len) {
  napi_value v;
  napi_create_string_latin1(env, len ? data : "", len, &v);
  return v;
}

// The length of the fixed CGI keys' names, for the log's "{N vars in B bytes}".
constexpr size_t kFixedKeyBytes =
    sizeof("QUERY_STRING") + sizeof("REQUEST_METHOD") + sizeof("CONTENT_TYPE") +
    sizeof("CONTENT_LENGTH") + sizeof("REQUEST_URI") + sizeof("PATH_INFO") +
    sizeof("SCRIPT_NAME") + sizeof("SERVER_PROTOCOL") + sizeof("REQUEST_SCHEME") +
    sizeof("REMOTE_ADDR") + sizeof("REMOTE_PORT") + sizeof("SERVER_PORT") +
    sizeof("SERVER_NAME") - 13;
constexpr size_t kFixedVars = 13;

}  // namespace

// The method argument of onRequest: its index in the methods table, or a string.
napi_value Server::MethodArg(StrView method) {
  napi_value v;
  for (size_t i = 0; i < methods_.size(); i++) {
    if (methods_[i].size() == method.len &&
        std::memcmp(methods_[i].data(), method.data, method.len) == 0) {
      napi_create_int32(env_, static_cast<int32_t>(i), &v);
      return v;
    }
  }
  return Latin1(env_, method.data, method.len);
}

namespace {
uint64_t WallMillis() {
  uv_timeval64_t tv;
  uv_gettimeofday(&tv);
  return static_cast<uint64_t>(tv.tv_sec) * 1000 + static_cast<uint64_t>(tv.tv_usec) / 1000;
}
}  // namespace

// What every dispatch does first: a new request id, the clocks, the counters, and
// under a master the request joins those in progress (method and uri: its request
// line, for the harakiri line).
void Server::BeginDispatch(Connection* c, StrView method, StrView uri) {
  if (slot_ != nullptr) {
    slot_->requests.fetch_add(1, std::memory_order_relaxed);
    in_progress_.Begin(&c->req->progress, WallMillis(), method.data, method.len, uri.data,
                       uri.len);
  }
  c->state = Connection::State::kDispatched;
  serial_ = (serial_ + 1) & 0xFFFFFFFFu;
  c->id = static_cast<double>((static_cast<uint64_t>(serial_) << kSlotBits) | c->slot);
  c->started_ns = uv_hrtime();
  c->resp_status = 0;
  c->resp_header_count = 0;
  c->resp_head_bytes = 0;
  c->resp_body_bytes = 0;
  c->chunked_response = false;
  c->close_after_response = false;
  requests_++;
  total_requests_++;
}

// The body argument of onRequest (undefined, a Buffer, or a file descriptor), its
// flag and its length.
napi_value Server::BodyArg(Connection* c, const char* body, size_t body_len,
                           uint32_t* flags, uint64_t* length) {
  RequestState* rs = c->req;
  napi_value v;
  if (body != nullptr && body_len > 0) {
    void* dst;
    napi_create_buffer_copy(env_, body_len, body, &dst, &v);
    *length = body_len;
  } else if (rs->sink.in_file()) {
    *flags |= kReqBodyFile;
    napi_create_int32(env_, rs->sink.fd(), &v);
    *length = rs->sink.size();
  } else if (rs->sink.size() > 0) {
    void* dst;
    napi_create_buffer_copy(env_, rs->sink.memory().size(), rs->sink.memory().data(), &dst,
                            &v);
    *length = rs->sink.size();
  } else {
    napi_get_undefined(env_, &v);
    *length = 0;
  }
  return v;
}

void Server::Dispatch(Connection* c, const HttpRequestHead& head, const char* body,
                      size_t body_len) {
  RequestState* rs = c->req;
  BeginDispatch(c, head.method, head.target);
  napi_env env = env_;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  argv_.resize(kFixedArgs + 2 * head.num_headers);
  napi_value* argv = argv_.data();

  uint32_t flags = c->listener_index << kReqListenerShift;
  if (rs->keep_alive) flags |= kReqKeepAlive;
  if (rs->http10) flags |= kReqHttp10;
  napi_create_double(env, c->id, &argv[0]);
  uint64_t content_length = 0;
  const bool has_body = head.framing != BodyFraming::kNone;
  argv[2] = BodyArg(c, body, body_len, &flags, &content_length);

  argv[3] = MethodArg(head.method);
  argv[4] = Latin1(env, head.target.data, head.target.len);

  // path and query: JavaScript slices them from the URI when it can.
  const StrView path = head.path;
  const StrView query = head.query;
  const bool origin_form = head.target.data[0] == '/';
  if (origin_form && std::memchr(path.data, '%', path.len) == nullptr) {
    argv[5] = undefined;
    argv[6] = undefined;
  } else {
    scratch_.clear();
    if (path.len == 0) scratch_.push_back('/');  // "http://host" asks for the root
    else PercentDecode(path.data, path.len, &scratch_);
    argv[5] = Latin1(env, scratch_.data(), scratch_.size());
    argv[6] = Latin1(env, query.data, query.len);
  }

  StrView ctype = ContentType(head);
  argv[7] = ctype.data != nullptr ? Latin1(env, ctype.data, ctype.len) : undefined;
  char num[24];
  size_t num_len = 0;
  if (has_body) {
    num_len = static_cast<size_t>(
        snprintf(num, sizeof num, "%llu", static_cast<unsigned long long>(content_length)));
    argv[8] = Latin1(env, num, num_len);
  } else {
    argv[8] = undefined;
  }
  if (!c->announced) {
    c->announced = true;
    flags |= kReqNewConnection;
    argv[9] = Latin1(env, c->remote_addr, std::strlen(c->remote_addr));
    argv[10] = Latin1(env, c->remote_port, std::strlen(c->remote_port));
  } else {
    argv[9] = undefined;
    argv[10] = undefined;
  }
  napi_create_uint32(env, flags, &argv[1]);

  size_t argc = kFixedArgs;
  size_t header_bytes = 0;
  size_t header_vars = 0;
  ForEachHeaderVar(head, keys_, &scratch_, [&](int index, StrView name, StrView value) {
    if (index >= 0) {
      napi_create_int32(env, index, &argv[argc]);
    } else {
      HttpKey(name, &key_scratch_);
      argv[argc] = Latin1(env, key_scratch_.data(), key_scratch_.size());
    }
    argv[argc + 1] = Latin1(env, value.data, value.len);
    argc += 2;
    header_vars++;
    header_bytes += 4 + 5 + name.len + value.len;
  });

  if (cfg_.logging) {
    rs->log_method.assign(head.method.data, head.method.len);
    rs->log_uri.assign(head.target.data, head.target.len);
    rs->vars_count = kFixedVars + header_vars;
    rs->vars_bytes = 4 * kFixedVars + kFixedKeyBytes + head.method.len + head.target.len * 2 +
                     ctype.len + num_len + 8 + 4 + std::strlen(c->remote_addr) +
                     std::strlen(c->remote_port) + 5 + server_name_.size() + header_bytes;
  }
  CallJs(on_request_, argc, argv);
}

// A uwsgi request: the front end sent the CGI variables itself. The ones onRequest
// takes by position go by position; every other one follows as a pair, so that what
// nginx says (SERVER_NAME, SERVER_PORT, SERVER_PROTOCOL, HTTPS...) is what the
// application sees.
void Server::DispatchUwsgi(Connection* c, const UwsgiRequest& u, const char* body,
                           size_t body_len) {
  RequestState* rs = c->req;
  BeginDispatch(c, u.vars[u.request_method].value,
                u.request_uri >= 0 ? u.vars[u.request_uri].value : StrView{"", 0});
  napi_env env = env_;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  std::vector<napi_value>& argv = argv_;
  argv.resize(kFixedArgs + 2 * u.num_vars);
  uint32_t flags = (c->listener_index << kReqListenerShift) | kReqHttp10 | kReqUwsgi |
                   kReqNewConnection;
  napi_create_double(env, c->id, &argv[0]);
  uint64_t content_length = 0;
  argv[2] = BodyArg(c, body, body_len, &flags, &content_length);
  napi_create_uint32(env, flags, &argv[1]);
  auto var = [&](int i) -> napi_value {
    if (i < 0) return undefined;
    const StrView v = u.vars[i].value;
    return Latin1(env, v.data, v.len);
  };
  argv[3] = MethodArg(u.vars[u.request_method].value);  // the parser saw REQUEST_METHOD
  argv[4] = u.request_uri >= 0 ? var(u.request_uri) : Latin1(env, "", 0);
  if (u.path_info >= 0) {
    // With nginx's "uwsgi_modifier1 30" or --manage-script-name, the SCRIPT_NAME the
    // front end sends is taken off the front of PATH_INFO, as uWSGI does: the
    // application mounted at /app sees /app/x as SCRIPT_NAME /app, PATH_INFO /x.
    StrView path = u.vars[u.path_info].value;
    if ((u.modifier1 == 30 || cfg_.manage_script_name) && u.script_name >= 0) {
      path = StripScriptName(path, u.vars[u.script_name].value);
    }
    argv[5] = Latin1(env, path.data, path.len);
  } else {
    argv[5] = Latin1(env, "", 0);
  }
  argv[6] = u.query_string >= 0 ? var(u.query_string) : Latin1(env, "", 0);
  int content_type = -1, remote_addr = -1, remote_port = -1;
  for (size_t i = 0; i < u.num_vars; i++) {
    const StrView k = u.vars[i].key;
    if (k.len == 12 && std::memcmp(k.data, "CONTENT_TYPE", 12) == 0) content_type = static_cast<int>(i);
    else if (k.len == 11 && std::memcmp(k.data, "REMOTE_ADDR", 11) == 0) remote_addr = static_cast<int>(i);
    else if (k.len == 11 && std::memcmp(k.data, "REMOTE_PORT", 11) == 0) remote_port = static_cast<int>(i);
  }
  argv[7] = var(content_type);
  if (content_length > 0) {
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", static_cast<unsigned long long>(content_length));
    argv[8] = Latin1(env, num, static_cast<size_t>(n));
  } else {
    argv[8] = u.content_length_var >= 0 ? var(u.content_length_var) : undefined;
  }
  argv[9] = remote_addr >= 0 ? var(remote_addr) : Latin1(env, c->remote_addr, std::strlen(c->remote_addr));
  argv[10] = remote_port >= 0 ? var(remote_port) : Latin1(env, c->remote_port, std::strlen(c->remote_port));
  size_t argc = kFixedArgs;
  for (size_t i = 0; i < u.num_vars; i++) {
    const int at = static_cast<int>(i);
    if (at == u.request_method || at == u.request_uri || at == u.path_info ||
        at == u.query_string || at == u.content_length_var || at == content_type ||
        at == remote_addr || at == remote_port) {
      continue;
    }
    const StrView k = u.vars[i].key;
    // nginx passes these headers on too; they are CONTENT_TYPE and CONTENT_LENGTH
    // already, and the body comes de-chunked: the same environ as over HTTP.
    if ((k.len == 17 && std::memcmp(k.data, "HTTP_CONTENT_TYPE", 17) == 0) ||
        (k.len == 19 && std::memcmp(k.data, "HTTP_CONTENT_LENGTH", 19) == 0) ||
        (k.len == 22 && std::memcmp(k.data, "HTTP_TRANSFER_ENCODING", 22) == 0)) {
      continue;
    }
    const int index = var_keys_.Find(k.data, k.len);
    if (index >= 0) napi_create_int32(env, index, &argv[argc]);
    else argv[argc] = Latin1(env, k.data, k.len);
    argv[argc + 1] = Latin1(env, u.vars[i].value.data, u.vars[i].value.len);
    argc += 2;
  }
  if (cfg_.logging) {
    auto text = [&](int i, std::string* out) {
      if (i >= 0) out->assign(u.vars[i].value.data, u.vars[i].value.len);
      else out->clear();
    };
    text(u.request_method, &rs->log_method);
    text(u.request_uri, &rs->log_uri);
    text(remote_addr, &rs->log_remote);
    text(u.server_protocol, &rs->log_protocol);
    rs->vars_count = u.num_vars;
    size_t bytes = 0;
    for (size_t i = 0; i < u.num_vars; i++) bytes += 4 + u.vars[i].key.len + u.vars[i].value.len;
    rs->vars_bytes = bytes;
  }
  CallJs(on_request_, argc, argv.data());
}

void Server::CallJs(napi_ref fn_ref, size_t argc, napi_value* argv) {
  if (fn_ref == nullptr) return;
  napi_value fn, recv, result;
  napi_get_reference_value(env_, fn_ref, &fn);
  napi_get_global(env_, &recv);  // napi_make_callback wants an object
  napi_status st = napi_make_callback(env_, async_context_, recv, fn, argc, argv, &result);
  if (st == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env_, &err);
    napi_fatal_exception(env_, err);
  }
}

RequestState* Server::AcquireRequest() {
  if (request_pool_.empty()) return new RequestState();
  RequestState* rs = request_pool_.back().release();
  request_pool_.pop_back();
  return rs;
}

void Server::ReleaseRequest(Connection* c) {
  RequestState* rs = c->req;
  if (rs == nullptr) return;
  c->req = nullptr;
  in_progress_.End(&rs->progress);  // answered, refused, or its connection gone
  rs->sink.Reset();
  if (rs->head_bytes.capacity() > 16384) std::string().swap(rs->head_bytes);
  rs->head_bytes.clear();
  if (request_pool_.size() < 256) {
    request_pool_.emplace_back(rs);
  } else {
    delete rs;
  }
}

Connection* Server::Lookup(double id) {
  if (!(id >= 0)) return nullptr;
  uint64_t n = static_cast<uint64_t>(id);
  uint64_t slot = n & kSlotMask;
  if (slot >= slots_.size()) return nullptr;
  Connection* c = slots_[slot];
  if (c == nullptr || c->id != id || c->state != Connection::State::kDispatched) return nullptr;
  return c;
}

// Appends a body value (a string as UTF-8, a Uint8Array, an array of those, or
// undefined) to *out. Returns the bytes appended; sets *ok to false for anything else.
size_t Server::AppendBody(std::string* out, napi_value v, bool* ok) {
  napi_env env = env_;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_string) {
    // One pass in the common case: copy into room that is probably enough, and only
    // when V8 filled it (it may have stopped short) ask for the length and copy again.
    const size_t at = out->size();
    constexpr size_t kGuess = 4096;
    out->resize(at + kGuess);
    size_t copied = 0;
    napi_get_value_string_utf8(env, v, &(*out)[at], kGuess, &copied);
    if (copied + 4 >= kGuess) {
      size_t len = 0;
      napi_get_value_string_utf8(env, v, nullptr, 0, &len);
      out->resize(at + len + 1);
      napi_get_value_string_utf8(env, v, &(*out)[at], len + 1, &copied);
    }
    out->resize(at + copied);
    return copied;
  }
  if (t == napi_object) {
    bool is_ta = false;
    napi_is_typedarray(env, v, &is_ta);
    if (is_ta) {
      napi_typedarray_type type;
      size_t length;
      void* data;
      napi_value ab;
      size_t offset;
      napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset);
      if (type != napi_uint8_array && type != napi_uint8_clamped_array &&
          type != napi_int8_array) {
        *ok = false;
        return 0;
      }
      out->append(static_cast<const char*>(data), length);
      return length;
    }
    bool is_array = false;
    napi_is_array(env, v, &is_array);
    if (is_array) {
      uint32_t n;
      napi_get_array_length(env, v, &n);
      size_t total = 0;
      for (uint32_t i = 0; i < n && *ok; i++) {
        napi_value e;
        napi_get_element(env, v, i, &e);
        total += AppendBody(out, e, ok);
      }
      return total;
    }
  }
  if (t != napi_undefined && t != napi_null) *ok = false;
  return 0;
}

// send(id, head, body, flags) -> 0 (go on), 1 (backpressure: wait for onDrain),
// -1 (the connection is gone). head is undefined or "STATUS\r\n" followed by the
// application's header lines ("Name: value\r\n"), latin-1; the framing lines
// (Content-Length when asked, Transfer-Encoding, Connection) and the empty line are
// added here. body is undefined, a string (sent as UTF-8), a Uint8Array, or an
// array of those.
Napi::Value Server::Send(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  napi_value result;
  double id;
  napi_get_value_double(env, info[0], &id);
  uint32_t flags = 0;
  napi_get_value_uint32(env, info[3], &flags);
  Connection* c = Lookup(id);
  if (c == nullptr) {
    napi_create_int32(env, -1, &result);
    return Napi::Value(env, result);
  }
  RequestState* rs = c->req;
  const bool close = (flags & kSendClose) || !rs->keep_alive || closing_;
  bool ok = true;
  size_t body_len = 0;
  bool body_done = false;
  napi_value head = info[1];
  napi_valuetype head_type;
  napi_typeof(env, head, &head_type);
  const bool chunked = (flags & kSendChunked) != 0;
  if (head_type == napi_string) {
    const size_t start = c->out.size();
    c->out.append("HTTP/1.1 ", 9);
    size_t len = 0;
    napi_get_value_string_latin1(env, head, nullptr, 0, &len);
    size_t at = c->out.size();
    c->out.resize(at + len + 1);
    napi_get_value_string_latin1(env, head, &c->out[at], len + 1, &len);
    c->out.resize(at + len);
    const char* h = c->out.data() + at;
    c->resp_status = (len >= 3) ? (h[0] - '0') * 100 + (h[1] - '0') * 10 + (h[2] - '0') : 0;
    size_t lines = 0;
    for (const char* p = h; (p = static_cast<const char*>(memchr(p, '\n', len - (p - h))));
         p++) {
      lines++;
    }
    c->resp_header_count = lines > 0 ? lines - 1 : 0;
    if (flags & kSendAddLength) {
      // The length is the body's: copy the body aside first.
      body_scratch_.clear();
      body_len = AppendBody(&body_scratch_, info[2], &ok);
      body_done = true;
      c->out.append("Content-Length: ", 16);
      AppendDecimal(&c->out, body_len);
      c->out.append("\r\n", 2);
      c->resp_header_count++;
    }
    if (chunked) {
      c->out.append("Transfer-Encoding: chunked\r\n", 28);
      c->resp_header_count++;
      c->chunked_response = true;
    }
    if (close) {
      c->close_after_response = true;
      c->out.append("Connection: close\r\n", 19);
      c->resp_header_count++;
    } else if (rs->http10) {
      c->out.append("Connection: keep-alive\r\n", 24);
      c->resp_header_count++;
    }
    c->out.append("\r\n", 2);
    c->resp_head_bytes = c->out.size() - start;
  }
  napi_value body = info[2];
  if (body_done) {
    c->out.append(body_scratch_);
  } else if (chunked) {
    body_scratch_.clear();
    body_len = AppendBody(&body_scratch_, body, &ok);
    if (body_len > 0) {
      AppendHex(&c->out, body_len);
      c->out.append("\r\n", 2);
      c->out.append(body_scratch_);
      c->out.append("\r\n", 2);
    }
  } else {
    body_len = AppendBody(&c->out, body, &ok);
  }
  if (body_scratch_.capacity() > kHighWater) std::string().swap(body_scratch_);
  c->resp_body_bytes += body_len;
  if (!ok) {
    napi_throw_type_error(env, "TSGI_ERR_BODY_TYPE",
                          "A body chunk must be a string or a Uint8Array");
    return Napi::Value();
  }
  if (flags & kSendAbort) {
    c->close_after = true;
    EndRequest(c, true);
    MarkDirty(c);
    if (batch_depth_ == 0) FlushDirty();
    napi_create_int32(env, -1, &result);
    return Napi::Value(env, result);
  }
  if (flags & kSendEnd) {
    if (c->chunked_response) c->out.append("0\r\n\r\n", 5);
    // A head that said "Connection: close" binds the end of the response too.
    EndRequest(c, close || c->close_after_response);
  }
  int ret = 0;
  if (!(flags & kSendEnd) && Queued(c) > kHighWater) {
    // Much output: corking gains nothing. Write now, and report backpressure only
    // if the socket did not take it, so that a write is in flight and OnWrite will
    // call onDrain.
    Flush(c);
    if (c->state == Connection::State::kDispatched && Queued(c) > kHighWater) {
      c->want_drain = true;
      ret = 1;
    }
  }
  MarkDirty(c);
  if (batch_depth_ == 0) FlushDirty();
  napi_create_int32(env, ret, &result);
  return Napi::Value(env, result);
}

void Server::EndRequest(Connection* c, bool close) {
  // One reading of the clock for the log line and the scoreboard.
  const uint64_t rt_us = (uv_hrtime() - c->started_ns) / 1000;
  if (cfg_.logging) LogRequest(c, rt_us);
  if (slot_ != nullptr) {
    const uint64_t avg = slot_->avg_rt.load(std::memory_order_relaxed);
    slot_->avg_rt.store(avg == 0 ? rt_us : (avg * 7 + rt_us) / 8, std::memory_order_relaxed);
    slot_->tx.fetch_add(c->resp_head_bytes + c->resp_body_bytes, std::memory_order_relaxed);
    slot_->running_time.fetch_add(rt_us, std::memory_order_relaxed);
    // The metrics' counts: two adds more, on this core's own cache lines.
    const int status_class = c->resp_status / 100 - 1;
    if (status_class >= 0 && status_class < static_cast<int>(kStatusClasses)) {
      slot_->codes[status_class].fetch_add(1, std::memory_order_relaxed);
    }
    slot_->durations[DurationBucket(rt_us)].fetch_add(1, std::memory_order_relaxed);
  }
  ReleaseRequest(c);
  c->id = -1;
  c->want_drain = false;
  c->state = Connection::State::kIdle;
  c->deadline = uv_now(loop_) + cfg_.timeout_ms;
  if (close || closing_) {
    c->close_after = true;
    return;
  }
  // Pipelined requests wait in inbuf; take them up on the next loop turn, not from
  // inside this call into native code.
  if (!c->inbuf.empty()) ScheduleResume(c);
}

void Server::ScheduleResume(Connection* c) {
  if (c->resume_pending) return;
  c->resume_pending = true;
  resume_.push_back(c);
  uv_idle_start(&resume_idle_, OnResume);
}

void Server::OnResume(uv_idle_t* idle) {
  Server* s = static_cast<Server*>(idle->data);
  uv_idle_stop(idle);
  std::vector<Connection*> list;
  list.swap(s->resume_);
  BatchScope batch(s);
  for (Connection* c : list) {
    c->resume_pending = false;
    if (c->state == Connection::State::kIdle && !c->close_after) s->ProcessInbuf(c);
  }
}

void Server::Refuse(Connection* c, int status, const std::string& why) {
  refused_++;
  if (slot_ != nullptr) {
    slot_->refusals[RefusalIndex(status)].fetch_add(1, std::memory_order_relaxed);
  }
  c->refused = true;  // the rest of the request is unread: close with a drain
  if (c->req) ReleaseRequest(c);
  c->id = -1;
  c->state = Connection::State::kIdle;
  const char* text = StatusText(status);
  std::string body = std::string(text) + "\n";
  c->out.append("HTTP/1.1 ");
  AppendDecimal(&c->out, static_cast<uint64_t>(status));
  c->out.push_back(' ');
  c->out.append(text);
  c->out.append("\r\nContent-Type: text/plain\r\nContent-Length: ");
  AppendDecimal(&c->out, body.size());
  c->out.append("\r\nConnection: close\r\n\r\n");
  c->out.append(body);
  c->close_after = true;
  c->inbuf.clear();
  LogLine("refused " + std::to_string(status) + " " + text + ": " + why, c);
  MarkDirty(c);
}

// The body cannot be buffered (err: -errno from the sink): a 500, and a log line that
// says which call failed, in which directory, and why, so that a missing TMPDIR or a
// full disk can be told apart.
void Server::RefuseBody(Connection* c, int err) {
  const BodySink& sink = c->req->sink;
  std::string why = "cannot buffer the request body: ";
  why += sink.failed_call();
  why += std::strcmp(sink.failed_call(), "write") == 0 ? " to a temporary file in " : " in ";
  why += sink.tmp_dir();
  why += ": ";
  why += DescribeErrno(-err);
  Refuse(c, 500, why);
}

// A malformed uwsgi packet: the connection is closed with a log line, no answer.
void Server::RefusePacket(Connection* c, const char* why) {
  refused_++;
  if (slot_ != nullptr) slot_->refusals[kRefusalUnanswered].fetch_add(1, std::memory_order_relaxed);
  c->refused = true;
  if (c->req) ReleaseRequest(c);
  c->id = -1;
  c->state = Connection::State::kIdle;
  c->close_after = true;
  c->inbuf.clear();
  char what[200];
  snprintf(what, sizeof what, "refused %s", why);  // why: "uwsgi packet: ..."
  LogLine(what, c);
  MarkDirty(c);
}

void Server::MarkDirty(Connection* c) {
  if (c->dirty) return;
  c->dirty = true;
  dirty_.push_back(c);
}

void Server::FlushDirty() {
  // Flush may close connections (whose memory is freed only in the close
  // callback), never add to dirty_ while iterating.
  for (size_t i = 0; i < dirty_.size(); i++) {
    Connection* c = dirty_[i];
    c->dirty = false;
    if (c->state != Connection::State::kClosing) Flush(c);
  }
  dirty_.clear();
}

void Server::Flush(Connection* c) {
  if (c->inflight == 0 && !c->out.empty()) {
    uv_buf_t b = uv_buf_init(&c->out[0], static_cast<unsigned>(c->out.size()));
    int r = uv_try_write(&c->h.stream, &b, 1);
    if (r == static_cast<int>(c->out.size())) {
      c->out.clear();
      if (c->out.capacity() > kHighWater) std::string().swap(c->out);
    } else if (r >= 0 || r == UV_EAGAIN || r == UV_ENOSYS) {
      size_t written = r > 0 ? static_cast<size_t>(r) : 0;
      auto* w = new WriteReq();
      w->data.swap(c->out);
      w->len = w->data.size() - written;
      w->req.data = c;
      c->inflight = w->len;
      uv_buf_t rest = uv_buf_init(&w->data[written], static_cast<unsigned>(w->len));
      int wr = uv_write(&w->req, &c->h.stream, &rest, 1, OnWrite);
      if (wr != 0) {
        c->inflight = 0;
        delete w;
        CloseConnection(c, true);
        return;
      }
      c->deadline = uv_now(loop_) + cfg_.timeout_ms;
    } else {
      CloseConnection(c, true);
      return;
    }
  }
  AfterOutput(c);
}

// Called after every flush of c, whatever took the output (uv_try_write at once, or a
// uv_write that completed): takes up pipelined requests held back by blocked output, and
// settles a close that waits for the output to drain.
void Server::AfterOutput(Connection* c) {
  if (c->output_blocked && Queued(c) <= kLowWater) {
    // The requests wait in inbuf, and reading may be stopped: both are taken up on the
    // next loop turn (OnResume, ProcessInbuf), not from inside this flush.
    c->output_blocked = false;
    if (c->state == Connection::State::kIdle && !c->close_after) ScheduleResume(c);
  }
  if (c->inflight != 0 || !c->out.empty()) return;
  if (c->close_after && c->state != Connection::State::kDispatched) {
    if (c->protocol == kProtocolUwsgi && !c->refused && c->inbuf.empty() &&
        c->state == Connection::State::kIdle) {
      // A front end sends one packet and its body, then waits: nothing is left unread
      // to turn the close into a reset, so no half-close and drain (a shutdown, a read
      // and a poll per request, when nginx opens a connection per request).
      CloseConnection(c, false);
      return;
    }
    StartLingering(c);
  }
}

void Server::OnWrite(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  auto* c = static_cast<Connection*>(req->data);
  Server* s = c->server;
  delete w;
  c->inflight = 0;
  if (c->state == Connection::State::kClosing) return;
  BatchScope batch(s);
  if (status < 0) {
    s->CloseConnection(c, true);
    return;
  }
  // Write what piled up meanwhile now (it may start another write; AfterOutput takes up
  // pipelined requests), then tell a body that waits when the output is low again.
  s->Flush(c);
  if (c->want_drain && s->Queued(c) <= kLowWater &&
      c->state == Connection::State::kDispatched) {
    c->want_drain = false;
    napi_value arg;
    napi_create_double(s->env_, c->id, &arg);
    s->CallJs(s->on_drain_, 1, &arg);
  }
}

void Server::StartLingering(Connection* c) {
  if (c->state == Connection::State::kLingering || c->state == Connection::State::kClosing) {
    return;
  }
  // Closing with unread bytes in the socket would send a reset that can destroy
  // the response before the client reads it: shut down our side, then read and
  // drop until the client closes, for a bounded time.
  c->state = Connection::State::kLingering;
  c->inbuf.clear();
  std::string().swap(c->inbuf);
  uint64_t linger = cfg_.timeout_ms < 2000 ? cfg_.timeout_ms : 2000;
  c->deadline = uv_now(loop_) + linger;
  auto* req = new uv_shutdown_t();
  req->data = c;
  if (uv_shutdown(req, &c->h.stream, OnShutdown) != 0) {
    delete req;
    CloseConnection(c, false);
    return;
  }
  if (!c->reading) {
    c->reading = true;
    uv_read_start(&c->h.stream, OnAlloc, OnRead);
  }
}

void Server::OnShutdown(uv_shutdown_t* req, int) { delete req; }

void Server::CloseConnection(Connection* c, bool abort_request) {
  if (c->state == Connection::State::kClosing) return;
  const bool was_dispatched = c->state == Connection::State::kDispatched;
  const double id = c->id;
  c->state = Connection::State::kClosing;
  if (c->reading) {
    uv_read_stop(&c->h.stream);
    c->reading = false;
  }
  uv_close(&c->h.handle, OnConnectionClosed);
  if (was_dispatched && abort_request) {
    // The line first, while the application still holds the request (a custom line
    // reads its environ); OnConnectionClosed then has nothing to log.
    if (cfg_.logging && c->req != nullptr) LogRequest(c, (uv_hrtime() - c->started_ns) / 1000);
    c->id = -1;
    aborted_++;
    if (slot_ != nullptr) slot_->aborted.fetch_add(1, std::memory_order_relaxed);
    napi_value arg;
    napi_create_double(env_, id, &arg);
    CallJs(on_abort_, 1, &arg);
  }
}

void Server::OnConnectionClosed(uv_handle_t* handle) {
  auto* c = static_cast<Connection*>(handle->data);
  Server* s = c->server;
  if (c->req) {
    if (s->cfg_.logging && c->id >= 0) s->LogRequest(c, (uv_hrtime() - c->started_ns) / 1000);
    s->ReleaseRequest(c);
  }
  if (c->prev) c->prev->next = c->next;
  else s->conns_ = c->next;
  if (c->next) c->next->prev = c->prev;
  s->conn_count_--;
  if (s->slot_ != nullptr) s->slot_->connections.store(s->conn_count_, std::memory_order_relaxed);
  s->slots_[c->slot] = nullptr;
  s->free_slots_.push_back(c->slot);
  for (Connection*& d : s->dirty_) {
    if (d == c) d = nullptr;
  }
  for (Connection*& d : s->resume_) {
    if (d == c) d = nullptr;
  }
  s->dirty_.erase(std::remove(s->dirty_.begin(), s->dirty_.end(), nullptr), s->dirty_.end());
  s->resume_.erase(std::remove(s->resume_.begin(), s->resume_.end(), nullptr), s->resume_.end());
  delete c;
  s->MaybeFinishClose();
}

void Server::OnTick(uv_timer_t* timer) {
  Server* s = static_cast<Server*>(timer->data);
  const uint64_t now = uv_now(s->loop_);
  if (s->slot_ != nullptr) {
    size_t rss = 0;
    if (uv_resident_set_memory(&rss) == 0) {
      s->slot_->rss.store(rss, std::memory_order_relaxed);
      s->slot_->rss_pid.store(static_cast<uint64_t>(s->pid_), std::memory_order_release);
    }
  }
  for (Listener* l : s->listeners_) {
    // Failures a line has not counted yet (a burst within a second of the last line).
    if (now >= l->next_log_at) s->LogAcceptFailures(l);
    if (l->paused) s->ResumeListener(l, true);  // accept() failed: try again
  }
  BatchScope batch(s);
  for (Connection* c = s->conns_; c != nullptr;) {
    Connection* next = c->next;
    if (c->deadline != 0 && now >= c->deadline) {
      switch (c->state) {
        case Connection::State::kIdle:
          // A half-close and a drain, not a reset: a request that crossed our close on
          // the wire is dropped quietly, and what we wrote is not destroyed.
          if (c->inflight == 0 && c->out.empty()) s->StartLingering(c);
          else if (c->inflight != 0) s->CloseConnection(c, true);  // the client reads nothing
          break;
        case Connection::State::kHead:
        case Connection::State::kBody:
          c->deadline = 0;
          s->Refuse(c, 408, "request not complete within http-timeout");
          break;
        case Connection::State::kDispatched:
          // The application's time is not limited here (harakiri is the master's).
          // A client that stopped reading our output is.
          if (c->inflight != 0) s->CloseConnection(c, true);
          else c->deadline = now + s->cfg_.timeout_ms;
          break;
        case Connection::State::kLingering:
          s->CloseConnection(c, false);
          break;
        case Connection::State::kClosing:
          break;
      }
    }
    c = next;
  }
}

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
// JavaScript from the request's environ (lib/log-format.ts), called as
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
// their response is out; onClose() is called when the last one is gone.
Napi::Value Server::Close(const Napi::CallbackInfo& info) {
  if (closing_) return info.Env().Undefined();
  closing_ = true;
  // When the sockets close for good (close(true)), the connections the kernel queued
  // since the last accept are taken first, and served as the open ones are below: the
  // close would reset them. (In master mode a socket closes with its last descriptor;
  // the worker closes its inherited one first.) On a reload or a recycle the other
  // workers accept them.
  const bool accept_waiting =
      info.Length() > 0 && info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
  for (Listener* l : listeners_) {
    if (!accept_waiting || l->paused) continue;
    // Unpolled first (uv_poll_stop takes the descriptor out of epoll), so that the
    // descriptor can be closed right after the last accept, not a loop turn later in
    // OnListenerClosed: a connection queued meanwhile would be reset.
    uv_poll_stop(&l->poll);
    AcceptWaiting(l);
    close(l->fd);
    l->fd = -1;
  }
  CloseListeners();
  // A keep-alive client may have sent its next request already: closing now would
  // lose it (or reset it, if it is in our socket buffer). Idle connections get a short
  // grace in which a request is still served, its response saying "Connection: close"
  // (closing_ makes every response say so); then they end with a half-close that
  // drains what the client sends (StartLingering), never with a reset. Busy ones end
  // after their response.
  const uint64_t grace = uv_now(loop_) + (cfg_.timeout_ms < kCloseGraceMs ? cfg_.timeout_ms : kCloseGraceMs);
  for (Connection* c = conns_; c != nullptr; c = c->next) {
    const bool idle = c->state == Connection::State::kIdle && c->inflight == 0 &&
                      c->out.empty() && c->inbuf.empty();
    if (idle || (c->state == Connection::State::kHead && c->deadline > grace)) {
      c->deadline = grace;  // a head begun must also be complete by then, or it gets 408
    }
  }
  if (grace_timer_armed_ == false) {
    // The tick may be a second apart: look again when the grace ends.
    grace_timer_armed_ = true;
    uv_timer_start(&tick_, OnTick, grace - uv_now(loop_) + 1, tick_interval_);
  }
  MaybeFinishClose();
  return info.Env().Undefined();
}

// destroy(): closes every listener and connection now; requests in progress are
// aborted.
Napi::Value Server::Destroy(const Napi::CallbackInfo& info) {
  closing_ = true;
  CloseListeners();
  BatchScope batch(this);
  for (Connection* c = conns_; c != nullptr;) {
    Connection* next = c->next;
    CloseConnection(c, true);
    c = next;
  }
  MaybeFinishClose();
  return info.Env().Undefined();
}

void Server::OnListenerClosed(uv_handle_t* handle) {
  auto* l = static_cast<Listener*>(handle->data);
  Server* s = l->server;
  if (l->fd >= 0) close(l->fd);  // after the poll is closed: never a descriptor polled while closed
  delete l;
  s->open_listeners_--;
  s->MaybeFinishClose();
}

void Server::MaybeFinishClose() {
  if (!closing_ || close_notified_ || open_listeners_ != 0 || conn_count_ != 0) return;
  close_notified_ = true;
  FlushLog();
  if (handles_open_) {
    handles_open_ = false;
    uv_timer_stop(&tick_);
    uv_idle_stop(&resume_idle_);
    uv_check_stop(&log_check_);
    uv_timer_stop(&log_timer_);
    // The handles live in this object: keep it until the last close callback.
    auto closed = [](uv_handle_t* h) {
      Server* s = static_cast<Server*>(h->data);
      if (--s->handles_closing_ == 0) s->FinishClose();
    };
    handles_closing_ = 4;
    uv_close(reinterpret_cast<uv_handle_t*>(&tick_), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&resume_idle_), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&log_check_), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&log_timer_), closed);
  }
}

void Server::FinishClose() {
  if (reserve_fd_ >= 0) {
    close(reserve_fd_);
    reserve_fd_ = -1;
  }
  Napi::HandleScope scope(env_);
  CallJs(on_close_, 0, nullptr);
  if (referenced_) {
    referenced_ = false;
    Unref();
  }
}

Napi::Value Server::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("requests", Napi::Number::New(env, static_cast<double>(requests_)));
  o.Set("connections", Napi::Number::New(env, static_cast<double>(conn_count_)));
  o.Set("refused", Napi::Number::New(env, static_cast<double>(refused_)));
  o.Set("aborted", Napi::Number::New(env, static_cast<double>(aborted_)));
  o.Set("acceptErrors", Napi::Number::New(env, static_cast<double>(accept_errors_)));
  o.Set("pooledRequests", Napi::Number::New(env, static_cast<double>(request_pool_.size())));
  return o;
}

// setRequestCounter(total): the count of every worker, for the log line's "req: N/T",
// when a master keeps one.
Napi::Value Server::SetRequestCounter(const Napi::CallbackInfo& info) {
  total_requests_ = static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

}  // namespace tsgi
