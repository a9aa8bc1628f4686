// A connection's output: corked while a batch of reads is handled, written with one
// uv_try_write (or uv_write for the rest), and the backpressure both ways: reading
// stops while too much waits unread, pipelined requests wait while too much output is
// queued, and onDrain tells a streamed body when the output is low again.
#include "server/server.h"

namespace tsgi {

namespace {

// A uv_write of the output that uv_try_write did not take: it owns the bytes.
struct WriteReq {
  uv_write_t req;
  std::string data;
  size_t len;
};

}  // namespace

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
  if (want && !c->reading) {
    c->reading = true;
    uv_read_start(&c->h.stream, OnAlloc, OnRead);
  } else if (!want && c->reading) {
    uv_read_stop(&c->h.stream);
    c->reading = false;
  }
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
  // from where it is: one writev, no copy. What the socket does not take is queued as
  // usual (Flush writes it with uv_write); an error other than EAGAIN leaves everything
  // queued, and Flush meets the error again and closes the connection.
  uv_buf_t bufs[2];
  unsigned n = 0;
  if (!c->out.empty()) bufs[n++] = uv_buf_init(&c->out[0], static_cast<unsigned>(c->out.size()));
  bufs[n++] = uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len));
  const int r = uv_try_write(&c->h.stream, bufs, n);
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
    uv_buf_t b = uv_buf_init(&c->out[0], static_cast<unsigned>(c->out.size()));
    int r = uv_try_write(&c->h.stream, &b, 1);
    if (r == static_cast<int>(c->out.size())) {
      c->out.clear();
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
  // Written whole, here or by Write()'s writev from the application's buffer.
  if (c->inflight == 0 && c->out.empty()) ReturnOutBuffer(c);
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
      (c->state == Connection::State::kDispatched || c->state == Connection::State::kWebSocket)) {
    c->want_drain = false;
    napi_value arg;
    napi_create_double(s->env_, c->id, &arg);
    s->CallJs(s->on_drain_, 1, &arg);
  }
}

}  // namespace tsgi
