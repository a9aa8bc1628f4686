// An upgraded connection handed to JavaScript: upgrade(id) (native/wire.h). The
// application accepted a request's offer to switch protocols (a WebSocket handshake);
// from then on the connection is not HTTP and not the server's. Once the output queued
// before it is out, the server duplicates the descriptor, closes its own handle (libuv
// takes it out of epoll; no shutdown, nothing written, so the peer sees nothing), ends
// the request as answered with 101, and gives the duplicate and the bytes read past the
// request to onUpgrade(id, fd, head), which makes a net.Socket of them
// (lib/native/backend.ts).
#include <fcntl.h>

#include <cerrno>

#include "server/server.h"
#include "server/sys.h"

namespace tsgi {

Connection* Server::Upgradable(const Napi::CallbackInfo& info) {
  double id = -1;
  napi_get_value_double(info.Env(), info[0], &id);
  Connection* c = Lookup(id);
  // Only a request that offered an upgrade, before any of its response went out.
  const bool ok = c != nullptr && c->upgrade_offered && !c->upgrading &&
                  c->resp_head_bytes == 0 && c->resp_body_bytes == 0;
  return ok ? c : nullptr;
}

Napi::Value Server::Upgrade(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  Connection* c = Upgradable(info);
  const bool ok = c != nullptr;
  if (ok) {
    c->upgrading = true;
    // Bytes after the request stay in the kernel for the new owner: read no more.
    if (c->reading) {
      c->reading = false;
      UpdatePoll(c);
    }
    // Not from inside this call (it may come from onRequest, in the middle of parsing
    // this connection's read): on the next loop turn, or when the output is out.
    if (Queued(c) == 0) ScheduleResume(c);
  }
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return Napi::Value(env, result);
}

Napi::Value Server::SetUpgraded(const Napi::CallbackInfo& info) {
  if (slot_ != nullptr) {
    double n = 0;
    napi_get_value_double(info.Env(), info[0], &n);
    slot_->upgraded.store(n > 0 ? static_cast<uint64_t>(n) : 0, std::memory_order_relaxed);
  }
  return info.Env().Undefined();
}

void Server::HandOff(Connection* c) {
  if (!c->upgrading || c->state != Connection::State::kDispatched) return;
  if (Queued(c) != 0) return;  // AfterOutput schedules it again once the output is out
  c->upgrading = false;
  const int fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    LogLine("upgrade failed: cannot duplicate the connection's descriptor: " +
                DescribeErrno(errno),
            c);
    CloseConnection(c, true);  // onAbort: the application learns it is gone
    return;
  }
  napi_value argv[3];
  napi_create_double(env_, c->id, &argv[0]);
  napi_create_int32(env_, fd, &argv[1]);
  void* copy;
  napi_create_buffer_copy(env_, c->inbuf.size(), c->inbuf.empty() ? "" : c->inbuf.data(), &copy,
                          &argv[2]);
  c->inbuf.clear();
  upgraded_++;
  c->resp_status = 101;
  // Logged and counted as a request answered with 101; no longer in progress, so that
  // harakiri does not take a long-lived WebSocket for a stuck request.
  EndRequest(c, true);
  CloseConnection(c, false);
  CallJs(on_upgrade_, 3, argv);
}

}  // namespace tsgi
