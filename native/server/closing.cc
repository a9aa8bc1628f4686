// Timeouts and closing: lingering closes, a connection's close, the tick that times
// connections out, and the server's close() and destroy().
#include <sys/socket.h>
#include <unistd.h>

#include "server/server.h"

namespace tsgi {

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
  // Nothing is queued (the callers linger only once the output is out): the FIN
  // follows the last response at once.
  if (shutdown(c->fd, SHUT_WR) != 0) {
    CloseConnection(c, false);
    return;
  }
  if (!c->reading) {
    c->reading = true;
    UpdatePoll(c);
  }
}

void Server::CloseConnection(Connection* c, bool abort_request) {
  if (c->state == Connection::State::kClosing) return;
  const bool was_dispatched = c->state == Connection::State::kDispatched;
  const double id = c->id;
  c->state = Connection::State::kClosing;
  c->reading = false;
  // The poll's close takes the descriptor out of epoll; the descriptor is closed at
  // once, as libuv's streams close theirs. What was left unwritten is dropped. The
  // connection's memory goes in the poll's close callback or, with no poll, just before
  // the loop polls again (OnPrepare): either way after whatever called this is done
  // with it.
  if (c->poll_open) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->poll), OnConnectionClosed);
  } else {
    reap_.push_back(c);
    uv_prepare_start(&prepare_, OnPrepare);
  }
  close(c->fd);
  c->fd = -1;
  c->inflight = 0;
  if (c->ws != nullptr) ReportWebSocketClosed(c);
  if (was_dispatched && abort_request) {
    // The line first, while the application still holds the request (a custom line
    // reads its environ); ForgetConnection then has nothing to log.
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
  c->server->ForgetConnection(c);
}

void Server::ForgetConnection(Connection* c) {
  if (c->req) {
    if (cfg_.logging && c->id >= 0) LogRequest(c, (uv_hrtime() - c->started_ns) / 1000);
    ReleaseRequest(c);
  }
  if (c->prev) c->prev->next = c->next;
  else conns_ = c->next;
  if (c->next) c->next->prev = c->prev;
  conn_count_--;
  if (c->ws != nullptr) websockets_--;
  CountConnections();
  slots_[c->slot] = nullptr;
  free_slots_.push_back(c->slot);
  for (Connection*& d : dirty_) {
    if (d == c) d = nullptr;
  }
  for (Connection*& d : resume_) {
    if (d == c) d = nullptr;
  }
  if (!ready_.empty()) {  // never, as the loop runs: the queue is taken before closes
    ready_.erase(std::remove_if(ready_.begin(), ready_.end(),
                                [c](const ReadyRead& r) { return r.c == c; }),
                 ready_.end());
  }
  dirty_.erase(std::remove(dirty_.begin(), dirty_.end(), nullptr), dirty_.end());
  resume_.erase(std::remove(resume_.begin(), resume_.end(), nullptr), resume_.end());
  delete c;
  MaybeFinishClose();
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
    if (c->inflight != 0) s->OutputMoved(c, now);  // the client took some: not stalled
    if (c->deadline != 0 && now >= c->deadline) {
      switch (c->state) {
        case Connection::State::kIdle:
          // A half-close and a drain, not a reset: a request that crossed our close on
          // the wire is dropped quietly, and what we wrote is not destroyed. A client
          // that reads nothing of a response still going out is cut.
          if (c->inflight == 0 && c->out.empty()) s->StartLingering(c);
          else if (c->inflight != 0) s->CloseConnection(c, true);
          break;
        case Connection::State::kHead:
        case Connection::State::kBody:
          // Idle from here (Refuse): the 408 goes out, then the linger; a client that
          // reads nothing of it (output still waiting) is cut at this deadline.
          s->Refuse(c, 408, "request not complete within http-timeout");
          c->deadline = now + s->cfg_.timeout_ms;
          break;
        case Connection::State::kDispatched:
          // The application's time is not limited here (harakiri is the master's).
          // A client that stopped reading our output is.
          if (c->inflight == 0) c->deadline = now + s->cfg_.timeout_ms;
          else s->CloseConnection(c, true);
          break;
        case Connection::State::kLingering:
          s->CloseConnection(c, false);
          break;
        case Connection::State::kWebSocket:
          // A client that stopped reading our frames, or that does not answer our close
          // within http-timeout, is cut; an idle one is not.
          if (c->inflight != 0 || c->ws->close_sent) s->CloseConnection(c, false);
          else c->deadline = 0;
          break;
        case Connection::State::kClosing:
          break;
      }
    }
    c = next;
  }
}

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
  const uint64_t grace = CloseGraceEnd();
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
  BatchScope batch(this, false);
  for (Connection* c = conns_; c != nullptr;) {
    Connection* next = c->next;
    CloseConnection(c, true);
    c = next;
  }
  // The cut requests' lines, and those the log still holds, are written now, not as the
  // close completes: the process may end before that (SIGQUIT: lib/process/end-process.ts).
  FlushLog();
  MaybeFinishClose();
  return info.Env().Undefined();
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
    uv_check_stop(&ws_check_);
    uv_check_stop(&ready_check_);
    uv_prepare_stop(&prepare_);
    uv_timer_stop(&log_timer_);
    // The handles live in this object: keep it until the last close callback.
    auto closed = [](uv_handle_t* h) {
      Server* s = static_cast<Server*>(h->data);
      if (--s->handles_closing_ == 0) s->FinishClose();
    };
    handles_closing_ = 7;
    uv_close(reinterpret_cast<uv_handle_t*>(&tick_), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&resume_idle_), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&log_check_), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&ws_check_), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&ready_check_), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&log_timer_), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&prepare_), closed);
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

}  // namespace tsgi
