// The server's N-API shell: the class, its construction from the settings, the
// listen entry points, and its counters.
#include <sys/socket.h>
#include <unistd.h>

#include "process/sockets.h"
#include "server/server.h"

namespace tsgi {

namespace {

// A method of the Server as a function with the Server in its data: the hot ones (send,
// once a response; wsSend, once a message) are made so and set on each object
// (Server::Server), because a prototype method (InstanceMethod) finds its object's Server
// through napi_unwrap, a private property V8 looks up on its slow path: about 450
// instructions a call, 4% of a hello request. The function is reachable only through its
// object, which holds the Server until it is collected.
template <Napi::Value (Server::*Method)(const Napi::CallbackInfo&)>
napi_value Bound(napi_env env, napi_callback_info cbinfo) {
  Napi::CallbackInfo info(env, cbinfo);
  return (static_cast<Server*>(info.Data())->*Method)(info);
}

void SetBound(napi_env env, napi_value object, const char* name, napi_callback cb, Server* server) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, server, &fn);
  napi_set_named_property(env, object, name, fn);
}

}  // namespace

Napi::Function Server::Init(Napi::Env env) {
  return DefineClass(env, "Server",
                     {
                         InstanceMethod("listen", &Server::Listen),
                         InstanceMethod("listenUnix", &Server::ListenUnix),
                         InstanceMethod("listenFd", &Server::ListenFd),
                         InstanceMethod("noteException", &Server::NoteException),
                         InstanceMethod("upgrade", &Server::Upgrade),
                         InstanceMethod("setUpgraded", &Server::SetUpgraded),
                         InstanceMethod("websocket", &Server::WebSocket),
                         InstanceMethod("wsClose", &Server::WsClose),
                         InstanceMethod("wsPause", &Server::WsPause),
                         InstanceMethod("wsTerminate", &Server::WsTerminate),
                         InstanceMethod("close", &Server::Close),
                         InstanceMethod("destroy", &Server::Destroy),
                         InstanceMethod("stats", &Server::Stats),
                         InstanceMethod("setRequestCounter", &Server::SetRequestCounter),
                     });
}

// new Server(settings): the keys are SettingsReader's calls below and in
// ReadServerConfig, every one required (lib/serve.ts nativeBackend passes them all; a
// missing one is a TypeError). The values are validated in TypeScript
// (lib/config/options.ts); here they are trusted.
Server::Server(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Server>(info), env_(info.Env()) {
  SettingsReader settings(env_, info[0]);
  ReadServerConfig(&settings, &cfg_);
  server_name_ = settings.String("serverName");
  // scoreboardFd: the master's scoreboard, or -1 (none: no master, no --stats).
  const int scoreboard_fd = static_cast<int>(settings.Number("scoreboardFd"));
  const size_t scoreboard_slot = static_cast<size_t>(settings.Number("scoreboardSlot"));
  const size_t scoreboard_slots = static_cast<size_t>(settings.Number("scoreboardSlots"));
  const Napi::Function on_request = settings.Function("onRequest");
  const Napi::Function on_drain = settings.Function("onDrain");
  const Napi::Function on_abort = settings.Function("onAbort");
  const Napi::Function on_upgrade = settings.Function("onUpgrade");
  const Napi::Function on_ws_messages = settings.Function("onWsMessages");
  const Napi::Function on_ws_close = settings.Function("onWsClose");
  const Napi::Function on_close = settings.Function("onClose");
  // onLog: a custom request log line (lib/logging/log-format.ts), or null for the built-in one.
  const Napi::Value on_log = settings.FunctionOrNull("onLog");
  // The keys and methods tables (lib/addon/wire.ts KEYS, METHODS), named by index on each
  // request.
  const std::vector<std::string> keys = settings.Strings("keys");
  methods_ = settings.Strings("methods");
  if (!settings.ok()) return;  // the TypeError is pending: new Server() throws it
  SetBound(env_, info.This(), "send", Bound<&Server::Send>, this);
  SetBound(env_, info.This(), "wsSend", Bound<&Server::WsSend>, this);

  if (scoreboard_fd >= 0) {
    scoreboard_.reset(new Scoreboard());
    if (scoreboard_->Map(scoreboard_fd, scoreboard_slots)) {
      slot_ = scoreboard_->slot(scoreboard_slot);
      in_progress_.set_slot(slot_);
    }
  }
  napi_create_reference(env_, on_request, 1, &on_request_);
  napi_create_reference(env_, on_drain, 1, &on_drain_);
  napi_create_reference(env_, on_abort, 1, &on_abort_);
  napi_create_reference(env_, on_upgrade, 1, &on_upgrade_);
  napi_create_reference(env_, on_ws_messages, 1, &on_ws_messages_);
  napi_create_reference(env_, on_ws_close, 1, &on_ws_close_);
  napi_create_reference(env_, on_close, 1, &on_close_);
  if (on_log.IsFunction()) napi_create_reference(env_, on_log, 1, &on_log_);
  for (size_t i = 0; i < keys.size(); i++) {
    const std::string& k = keys[i];
    var_keys_.Add(k.data(), k.size(), static_cast<int>(i));
    if (k.compare(0, 5, "HTTP_") != 0) continue;
    std::string name = k.substr(5);
    for (char& ch : name) ch = ch == '_' ? '-' : ch;
    keys_.Add(name.data(), name.size(), static_cast<int>(i));
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
  uv_check_init(loop_, &ws_check_);
  ws_check_.data = this;
  uv_check_init(loop_, &ready_check_);
  ready_check_.data = this;
  uv_prepare_init(loop_, &prepare_);
  prepare_.data = this;
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
  if (on_upgrade_) napi_delete_reference(env_, on_upgrade_);
  if (on_ws_messages_) napi_delete_reference(env_, on_ws_messages_);
  if (on_ws_close_) napi_delete_reference(env_, on_ws_close_);
  if (on_log_) napi_delete_reference(env_, on_log_);
  if (on_close_) napi_delete_reference(env_, on_close_);
  if (async_context_) napi_async_destroy(env_, async_context_);
  if (reserve_fd_ >= 0) close(reserve_fd_);
  delete[] read_buf_;
}

// listen(host, port, backlog) -> [address, port, family, fd]. host is a numeric IPv4 or
// IPv6 address (lib/protocol/address.ts resolves names). Throws an Error whose code is
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

  // Bound as the master binds (sockets.cc: it parses the address, which lib/protocol/address.ts
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
// owner are lib/backend/unix-socket.ts's; here the socket is only bound.
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

Napi::Value Server::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("requests", Napi::Number::New(env, static_cast<double>(requests_)));
  o.Set("connections", Napi::Number::New(env, static_cast<double>(conn_count_ - websockets_)));
  o.Set("refused", Napi::Number::New(env, static_cast<double>(refused_)));
  o.Set("aborted", Napi::Number::New(env, static_cast<double>(aborted_)));
  o.Set("upgraded", Napi::Number::New(env, static_cast<double>(upgraded_)));
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
