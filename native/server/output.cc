// A connection's output: corked while a batch of reads is handled, written with one
// send (the rest when the socket is writable again), and the backpressure both ways:
// reading stops while too much waits unread, pipelined requests wait while too much
// output is queued, and onDrain tells a streamed body when the output is low again.
#include "server/server.h"
#include "server/sys.h"

namespace tsgi {

void Server::UpdateReading(Connection* c) {
  if (c->state == Connection::State::kClosing || c->state == Connection::State::kLingering) {
    return;  // lingering reads until EOF (StartLingering); closing reads nothing
  }
  bool want;
  if (c->state == Connection::State::kWebSocket) {
    // Not while JavaScript holds too many messages unread (but for the peer's close, once
    // ours is sent), nor once the close is done.
    want = (!c->ws->paused || c->ws->close_sent) && !c->close_after;
  } else {
    const bool waiting = c->state == Connection::State::kDispatched || c->close_after ||
                         c->output_blocked;
    want = !(waiting && c->inbuf.size() > cfg_.buffer_size + kReadBufferSize);
  }
  if (want != c->reading) {
    c->reading = want;
    UpdatePoll(c);
  }
}

namespace {

// What c's poll watches: readable while it reads, writable while output waits.
int WantedEvents(const Connection* c) {
  return (c->reading ? UV_READABLE : 0) | (c->inflight != 0 ? UV_WRITABLE : 0);
}

}  // namespace

void Server::UpdatePoll(Connection* c) {
  if (c->state == Connection::State::kClosing) return;
  const int events = WantedEvents(c);
  if (!c->poll_open) {
    if (events != 0 && !c->watch_queued) {
      c->watch_queued = true;
      to_watch_.push_back(c);
      uv_prepare_start(&prepare_, OnPrepare);
    }
    return;
  }
  if (events == c->polled) return;
  c->polled = events;
  if (events == 0) uv_poll_stop(&c->poll);
  else uv_poll_start(&c->poll, events, OnPoll);
}

void Server::OnPrepare(uv_prepare_t* prepare) {
  Server* s = static_cast<Server*>(prepare->data);
  uv_prepare_stop(prepare);
  std::vector<Connection*> list;
  list.swap(s->to_watch_);
  for (Connection* c : list) {
    c->watch_queued = false;
    if (c->state == Connection::State::kClosing) continue;
    const int events = WantedEvents(c);
    if (events == 0) continue;  // nothing to wait for any more: made when there is
    if (uv_poll_init_socket(s->loop_, &c->poll, c->fd) != 0) {
      BatchScope batch(s);
      s->CloseConnection(c, true);
      continue;
    }
    c->poll_open = true;
    c->poll.data = c;
    s->UpdatePoll(c);  // polled is 0: starts it
  }
  // After the list above, which may hold some of them (closed, skipped).
  std::vector<Connection*> gone;
  gone.swap(s->reap_);
  for (Connection* c : gone) s->ForgetConnection(c);
}

void Server::MarkDirty(Connection* c) {
  if (c->dirty) return;
  c->dirty = true;
  dirty_.push_back(c);
}

namespace {

constexpr size_t kOutPooledMax = 16384;     // the largest capacity kept in the pool
const size_t kInlineCapacity = std::string().capacity();  // a string's room before it allocates

}  // namespace

void Server::TakeOutBuffer(Connection* c) {
  if (out_pool_.empty() || !c->out.empty() || c->out.capacity() > kInlineCapacity) return;
  c->out.swap(out_pool_.back());
  out_pool_.pop_back();
}

// c's output went out whole (c->out is empty, no write in flight): its buffer goes to
// the pool (as many as a batch has connections), or is freed when large.
void Server::ReturnOutBuffer(Connection* c) {
  const size_t room = c->out.capacity();
  if (room <= kInlineCapacity) return;
  if (room <= kOutPooledMax && out_pool_.size() < kReadyBatch) {
    out_pool_.emplace_back();
    out_pool_.back().swap(c->out);
  } else if (room > kHighWater) {
    std::string().swap(c->out);
  }
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

void Server::Write(Connection* c, const char* data, size_t len) {
  if (len < kDirectWrite || c->inflight != 0) {
    c->out.append(data, len);
    return;
  }
  // What is corked (this response's head, earlier pipelined responses), then the body
  // from where it is: one send, no copy. What the socket does not take is queued as
  // usual (Flush leaves it for OnWritable); an error leaves everything queued, and Flush
  // meets the error again and closes the connection.
  iovec bufs[2];
  int n = 0;
  if (!c->out.empty()) bufs[n++] = {&c->out[0], c->out.size()};
  bufs[n++] = {const_cast<char*>(data), len};
  const ssize_t r = SendSome(c->fd, bufs, n);
  const size_t written = r > 0 ? static_cast<size_t>(r) : 0;
  if (written >= c->out.size()) {
    const size_t of_body = written - c->out.size();
    c->out.clear();
    c->out.append(data + of_body, len - of_body);
  } else {
    c->out.erase(0, written);
    c->out.append(data, len);
  }
}

void Server::Flush(Connection* c) {
  if (c->inflight == 0 && !c->out.empty()) {
    const iovec b = {&c->out[0], c->out.size()};
    const ssize_t r = SendSome(c->fd, &b, 1);
    if (r == static_cast<ssize_t>(c->out.size())) {
      c->out.clear();
    } else if (r >= 0) {
      // The rest waits for the socket to be writable (OnWritable); output made meanwhile
      // is corked in c->out behind it.
      c->pending.swap(c->out);
      c->pending_off = static_cast<size_t>(r);
      c->inflight = c->pending.size() - c->pending_off;
      OutputWaits(c);
      UpdatePoll(c);
    } else {
      CloseConnection(c, true);
      return;
    }
  }
  // Written whole, here or by Write()'s writev from the application's buffer.
  if (c->inflight == 0 && c->out.empty()) ReturnOutBuffer(c);
  AfterOutput(c);
}

// Called after every flush of c, whatever took the output (a send at once, or the
// rest once the socket was writable): takes up pipelined requests held back by blocked
// output, and settles a close that waits for the output to drain.
void Server::AfterOutput(Connection* c) {
  if (c->output_blocked && Queued(c) <= kLowWater) {
    // The requests wait in inbuf, and reading may be stopped: both are taken up on the
    // next loop turn (OnResume, ProcessInbuf), not from inside this flush.
    c->output_blocked = false;
    if (c->state == Connection::State::kIdle && !c->close_after) ScheduleResume(c);
  }
  if (c->inflight != 0 || !c->out.empty()) return;
  if (closing_ && c->state == Connection::State::kIdle && !c->close_after) {
    // The server is closing, and this keep-alive connection's last response has just gone
    // out (a slow reader): it gets the grace idle connections got at the close (Close), in
    // which a request that crossed it is still answered, not http-timeout's.
    const uint64_t grace = CloseGraceEnd();
    if (c->deadline > grace) c->deadline = grace;
  }
  if (c->upgrading) {
    ScheduleResume(c);  // the output is out: the hand-off, on the next loop turn
    return;
  }
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

// The socket took part of c's output and is full again: http-timeout bounds the time
// until the client takes more, as nginx's send_timeout bounds the time between two
// writes, not the whole output. A reader slower than a third of the socket's send buffer
// (up to 4 MiB on loopback) per http-timeout never makes it writable in time: every tick
// asks the kernel whether what it holds of the output shrank (OutputMoved). Unknown until
// that first look, which counts as progress: a reader that stopped is cut http-timeout
// after it, within a tick of the last write.
void Server::OutputWaits(Connection* c) {
  OutputProgressed(c, uv_now(loop_));
  c->unsent = -1;
}

void Server::OutputMoved(Connection* c, uint64_t now) {
  const ssize_t unsent = UnsentBytes(c->fd);
  if (unsent < 0 || (c->unsent >= 0 && unsent >= c->unsent)) return;
  c->unsent = unsent;
  OutputProgressed(c, now);
}

void Server::OnWritable(Connection* c) {
  const iovec b = {&c->pending[c->pending_off], c->inflight};
  const ssize_t r = SendSome(c->fd, &b, 1);
  BatchScope batch(this);
  if (r < 0) {
    CloseConnection(c, true);
    return;
  }
  c->pending_off += static_cast<size_t>(r);
  c->inflight -= static_cast<size_t>(r);
  if (c->inflight != 0) {  // the socket is full again: writable later
    if (r > 0) OutputWaits(c);
    return;
  }
  OutputProgressed(c, uv_now(loop_));  // the output is out: an idle connection's time starts now
  std::string().swap(c->pending);
  c->pending_off = 0;
  // Write what piled up meanwhile now (it may leave a rest again; AfterOutput takes up
  // pipelined requests), then stop waiting for writable if nothing is left: one epoll_ctl
  // at most, none while a stream keeps the socket full. Then tell a body that waits when
  // the output is low again.
  Flush(c);
  UpdatePoll(c);
  if (c->want_drain && Queued(c) <= kLowWater &&
      (c->state == Connection::State::kDispatched || c->state == Connection::State::kWebSocket)) {
    c->want_drain = false;
    napi_value arg;
    napi_create_double(env_, c->id, &arg);
    CallJs(on_drain_, 1, &arg);
  }
}

}  // namespace tsgi
