#include "process/master.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "process/scoreboard.h"
#include "process/sockets.h"

namespace tsgi {

namespace {

Scoreboard* master_scoreboard = nullptr;

Napi::Value ThrowErrno(Napi::Env env, int err, const std::string& what) {
  Napi::Error e = Napi::Error::New(env, what + ": " + std::strerror(err));
  const char* code = err == EADDRINUSE ? "EADDRINUSE"
                     : err == EACCES   ? "EACCES"
                     : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL"
                     : err == ENOENT   ? "ENOENT"
                                       : "EIO";
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, err));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

// bindTcp(host, port, backlog) -> [fd, address, port, family]. The socket is bound
// and listening; nobody accepts on it in the master. The workers inherit the fd (the
// spawn maps it into their stdio, which clears close-on-exec there).
Napi::Value BindTcp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string host = info[0].As<Napi::String>().Utf8Value();
  int port = info[1].As<Napi::Number>().Int32Value();
  BoundTcp b;
  int r = BindTcpSocket(host, port, info[2].As<Napi::Number>().Int32Value(), &b);
  if (r < 0) return ThrowErrno(env, -r, "cannot listen on " + host + ":" + std::to_string(port));
  Napi::Array out = Napi::Array::New(env, 4);
  out.Set(0u, Napi::Number::New(env, b.fd));
  out.Set(1u, Napi::String::New(env, b.address));
  out.Set(2u, Napi::Number::New(env, b.port));
  out.Set(3u, Napi::String::New(env, b.v6 ? "IPv6" : "IPv4"));
  return out;
}

// bindUnix(path, backlog) -> fd. "@name" is a Linux abstract socket.
Napi::Value BindUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = BindUnixSocket(path, info[1].As<Napi::Number>().Int32Value());
  if (fd < 0) return ThrowErrno(env, -fd, "cannot listen on " + path);
  return Napi::Number::New(env, fd);
}

// closeFd(fd): the master's sockets, closed at the very end.
Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// scoreboardCreate(slots) -> fd.
Napi::Value ScoreboardCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t slots = info[0].As<Napi::Number>().Uint32Value();
  if (master_scoreboard == nullptr) master_scoreboard = new Scoreboard();
  int fd = master_scoreboard->Create(slots);
  if (fd < 0) return ThrowErrno(env, -fd, "cannot create the scoreboard");
  return Napi::Number::New(env, fd);
}

const char* const kFields[] = {"pid",         "status",        "requests",      "requestStart",
                               "tx",          "exceptions",    "avgRt",         "lastSpawn",
                               "respawnCount", "harakiriCount", "rss",          "vsz",
                               "deltaRequests", "runningTime", "acceptErrors", "rssPid",
                               "inProgress",  "connections",   "aborted",       "upgraded"};
constexpr size_t kFieldCount = sizeof kFields / sizeof kFields[0];

std::atomic<uint64_t>* Field(ScoreboardSlot* s, size_t f) {
  std::atomic<uint64_t>* fields[] = {&s->pid,       &s->status,        &s->requests,
                                     &s->request_start, &s->tx,        &s->exceptions,
                                     &s->avg_rt,    &s->last_spawn,    &s->respawn_count,
                                     &s->harakiri_count, &s->rss,      &s->vsz,
                                     &s->delta_requests, &s->running_time, &s->accept_errors,
                                     &s->rss_pid,   &s->in_progress,  &s->connections,
                                     &s->aborted,   &s->upgraded};
  return fields[f];
}

// scoreboardRead() -> one object per slot, with every field.
Napi::Value ScoreboardRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  if (master_scoreboard == nullptr) return out;
  for (size_t i = 0; i < master_scoreboard->slots(); i++) {
    ScoreboardSlot* s = master_scoreboard->slot(i);
    Napi::Object o = Napi::Object::New(env);
    for (size_t f = 0; f < kFieldCount; f++) {
      o.Set(kFields[f], Napi::Number::New(env, static_cast<double>(
                                                   Field(s, f)->load(std::memory_order_relaxed))));
    }
    auto array = [&](const char* name, std::atomic<uint64_t>* a, size_t n) {
      Napi::Array v = Napi::Array::New(env, n);
      for (size_t k = 0; k < n; k++) {
        v.Set(static_cast<uint32_t>(k),
              Napi::Number::New(env, static_cast<double>(a[k].load(std::memory_order_relaxed))));
      }
      o.Set(name, v);
    };
    array("codes", s->codes, kStatusClasses);
    array("durations", s->durations, kDurationBuckets);
    array("refusals", s->refusals, kRefusalKinds);
    char request[sizeof s->request + 1];
    std::memcpy(request, s->request, sizeof s->request);
    request[sizeof s->request] = '\0';
    o.Set("request", Napi::String::New(env, request, strnlen(request, sizeof s->request)));
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

// scoreboardSet(slot, field, value): what the master keeps (pid, respawnCount...).
Napi::Value ScoreboardSet(const Napi::CallbackInfo& info) {
  if (master_scoreboard == nullptr) return info.Env().Undefined();
  ScoreboardSlot* s = master_scoreboard->slot(info[0].As<Napi::Number>().Uint32Value());
  std::string name = info[1].As<Napi::String>().Utf8Value();
  uint64_t value = static_cast<uint64_t>(info[2].As<Napi::Number>().DoubleValue());
  if (s == nullptr) return info.Env().Undefined();
  for (size_t f = 0; f < kFieldCount; f++) {
    if (name == kFields[f]) Field(s, f)->store(value, std::memory_order_relaxed);
  }
  return info.Env().Undefined();
}

// scoreboardReset(slot): everything a worker writes, and the harakiri count, back to
// zero, for the next process to take the slot: nothing of the last one may be taken
// for its own. The master's pid, respawn count and last spawn stay.
Napi::Value ScoreboardReset(const Napi::CallbackInfo& info) {
  if (master_scoreboard == nullptr) return info.Env().Undefined();
  ScoreboardSlot* s = master_scoreboard->slot(info[0].As<Napi::Number>().Uint32Value());
  if (s == nullptr) return info.Env().Undefined();
  for (size_t f = 0; f < kFieldCount; f++) {
    std::atomic<uint64_t>* field = Field(s, f);
    if (field != &s->pid && field != &s->respawn_count && field != &s->last_spawn) {
      field->store(0, std::memory_order_relaxed);
    }
  }
  for (auto& c : s->codes) c.store(0, std::memory_order_relaxed);
  for (auto& d : s->durations) d.store(0, std::memory_order_relaxed);
  for (auto& r : s->refusals) r.store(0, std::memory_order_relaxed);
  return info.Env().Undefined();
}

// listenQueue(fd) -> {length, backlog} of a TCP listening socket: for a socket in
// LISTEN state Linux's TCP_INFO gives the connections waiting in its accept queue as
// tcpi_unacked and the backlog it was given (after the kernel's somaxconn clamp) as
// tcpi_sacked, as uWSGI reads them. undefined for anything else (a unix socket has no
// TCP_INFO).
Napi::Value ListenQueue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = info[0].As<Napi::Number>().Int32Value();
  tcp_info ti{};
  socklen_t len = sizeof ti;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 || ti.tcpi_state != TCP_LISTEN) {
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("length", Napi::Number::New(env, ti.tcpi_unacked));
  out.Set("backlog", Napi::Number::New(env, ti.tcpi_sacked));
  return out;
}

// logTo(path): opens path for appending (creating it 0640) and makes it this
// process's stdout and stderr (dup2), so that every log line, native or not, goes
// there; children inherit it. Throws with the errno's code.
Napi::Value LogTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return ThrowErrno(env, errno, "cannot open the log file " + path);
  if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, err, "cannot log to " + path);
  }
  close(fd);
  return env.Undefined();
}

// openLog(path) -> fd: path opened for appending (created 0640), for --req-logger.
Napi::Value OpenLog(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return ThrowErrno(env, errno, "cannot open the log file " + path);
  return Napi::Number::New(env, fd);
}

// reopenLog(path, fd): path opened again and put in fd's place (dup2), so that whoever
// writes to fd (the native server's request log) writes to the file now at path: what
// logrotate needs after it renamed the old one. The old file is closed once no
// descriptor holds it; a failure leaves fd as it was.
Napi::Value ReopenLog(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  const int target = info[1].As<Napi::Number>().Int32Value();
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return ThrowErrno(env, errno, "cannot reopen the log file " + path);
  if (dup3(fd, target, O_CLOEXEC) < 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, err, "cannot reopen the log file " + path);
  }
  close(fd);
  return env.Undefined();
}

// setLimitAs(bytes): RLIMIT_AS, uWSGI's --limit-as, for this process and its children.
Napi::Value SetLimitAs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  rlimit rl;
  rl.rlim_cur = rl.rlim_max = static_cast<rlim_t>(info[0].As<Napi::Number>().DoubleValue());
  if (setrlimit(RLIMIT_AS, &rl) != 0) return ThrowErrno(env, errno, "cannot set limit-as");
  return env.Undefined();
}

}  // namespace

Scoreboard* MasterScoreboard() { return master_scoreboard; }

void InitMaster(Napi::Env env, Napi::Object exports) {
  exports.Set("bindTcp", Napi::Function::New(env, BindTcp));
  exports.Set("bindUnix", Napi::Function::New(env, BindUnix));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("scoreboardCreate", Napi::Function::New(env, ScoreboardCreate));
  exports.Set("scoreboardRead", Napi::Function::New(env, ScoreboardRead));
  exports.Set("scoreboardSet", Napi::Function::New(env, ScoreboardSet));
  exports.Set("scoreboardReset", Napi::Function::New(env, ScoreboardReset));
  exports.Set("listenQueue", Napi::Function::New(env, ListenQueue));
  exports.Set("logTo", Napi::Function::New(env, LogTo));
  exports.Set("openLog", Napi::Function::New(env, OpenLog));
  exports.Set("reopenLog", Napi::Function::New(env, ReopenLog));
  exports.Set("setLimitAs", Napi::Function::New(env, SetLimitAs));
}

}  // namespace tsgi
