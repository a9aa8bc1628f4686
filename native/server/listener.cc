// Accepting: the listeners, polled and accepted from by the server itself (not
// uv_listen), so that running out of descriptors (EMFILE) is answered and logged, with
// a descriptor kept in reserve to refuse the connections waiting.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "server/server.h"
#include "server/sys.h"

namespace tsgi {

namespace {

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

void Server::AcceptWaiting(Listener* l) {
  for (int i = 0; i < kAcceptBatch; i++) {
    struct sockaddr_storage peer;
    const int fd = AcceptOne(l->fd, &peer);
    // None left (or none to be had): what comes after is reset by the close.
    if (fd >= 0) Accept(l, fd, peer, false);
    else if (!IsTransientAcceptError(-fd)) return;
  }
}

// fd: a connection accept4 just gave (non-blocking), from peer.
void Server::Accept(Listener* l, int fd, const struct sockaddr_storage& peer, bool read_now) {
  auto* c = new Connection();
  c->server = this;
  // What the connection needs of its listener is copied: a graceful close frees the
  // listener while its connections are still served.
  c->protocol = l->protocol;
  c->is_pipe = l->is_pipe;
  c->listener_index = l->index;
  c->proxy_pending = cfg_.proxy_protocol && l->protocol == kProtocolHttp;
  c->fd = fd;
  if (!l->is_pipe) {
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    FormatAddress(&peer, c->remote_addr, sizeof c->remote_addr, c->remote_port,
                  sizeof c->remote_port);
  }
  if (free_slots_.empty()) {
    if (slots_.size() > kSlotMask) {  // over a million connections: refuse this one
      close(fd);
      delete c;
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
  CountConnections();
  c->deadline = uv_now(loop_) + cfg_.timeout_ms;
  // Read at once, before the socket is watched: a front end (nginx over uwsgi opens a
  // connection per request) or a client without keep-alive has usually written its
  // request by now, and a connection answered and closed from here is never added to
  // epoll. Until the read is done c->reading means "reading is wanted": the code it
  // runs may stop reading (a bound) or close, and the watch starts only if it did not.
  c->reading = true;
  if (read_now) ReadOnce(c);
  UpdatePoll(c);
}


void Server::OnListenerClosed(uv_handle_t* handle) {
  auto* l = static_cast<Listener*>(handle->data);
  Server* s = l->server;
  if (l->fd >= 0) close(l->fd);  // after the poll is closed: never a descriptor polled while closed
  delete l;
  s->open_listeners_--;
  s->MaybeFinishClose();
}

}  // namespace tsgi
