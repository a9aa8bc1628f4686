// A connection's input: reading, the parse state machine (head, body, pipelining), and
// the requests refused before they reach JavaScript.
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "protocol/proxy_parser.h"
#include "protocol/response.h"
#include "server/server.h"
#include "server/sys.h"

namespace tsgi {

void Server::OnPoll(uv_poll_t* poll, int status, int events) {
  auto* c = static_cast<Connection*>(poll->data);
  Server* s = c->server;
  if (c->state == Connection::State::kClosing) return;
  if (status < 0) {  // the poll's own error (POLLERR): the socket is no more to be used
    s->OnRead(c, status);
    return;
  }
  if ((events & UV_WRITABLE) != 0 && c->inflight != 0) {
    s->OnWritable(c);
    if (c->state == Connection::State::kClosing) return;
  }
  if ((events & UV_READABLE) == 0) return;
  // As libuv's streams read: again while a read fills the buffer (a body arriving fast),
  // 32 times at most, so that one connection does not hold the loop.
  for (int count = 32; count > 0 && c->reading && c->state != Connection::State::kClosing; count--) {
    if (s->ReadOnce(c) < static_cast<ssize_t>(kReadBufferSize)) return;
  }
}

ssize_t Server::ReadOnce(Connection* c) {
  const ssize_t n = RecvSome(c->fd, read_buf_, kReadBufferSize);
  if (n != -EAGAIN && n != -EWOULDBLOCK) OnRead(c, n == 0 ? static_cast<ssize_t>(UV_EOF) : n);
  return n;
}

void Server::OnRead(Connection* c, ssize_t nread) {
  if (nread == 0) return;
  if (c->state == Connection::State::kClosing) return;
  if (nread < 0) {
    // EOF or an error. A request the application still holds is abandoned: the
    // client went away (a half-closed client counts as gone, as node:http has it).
    // What was read before it is taken up first, as it would have been at once (an EOF
    // is read a turn after the bytes before it; this keeps the order if not).
    if (!ready_.empty()) TakeReady();
    BatchScope batch(this);
    CloseConnection(c, true);
    return;
  }
  if (c->state == Connection::State::kLingering) return;  // dropped
  const size_t n = static_cast<size_t>(nread);
  if (c->state == Connection::State::kIdle && c->inbuf.empty() && n <= kReadyMax) {
    // The start of a request, most often all of it: kept until the loop has read every
    // connection that is ready (OnReadyCheck), so that their requests go to JavaScript
    // in one batch: one callback scope for them all, where each read alone would make
    // its own (napi_make_callback), and each stage's code stays in the instruction cache
    // from one request to the next.
    if (ready_bytes_.size() + n > kReadyBytesMax) TakeReady();
    if (ready_.empty()) uv_check_start(&ready_check_, OnReadyCheck);
    ready_.push_back({c, ready_bytes_.size(), n});
    ready_bytes_.append(read_buf_, n);
    // A batch is kReadyBatch reads at most, taken as soon as it is full: the answers of
    // a large turn go out while the loop still reads the rest of it, so that the first of
    // a thousand connections waits neither for the last to be read nor to be answered
    // (docs/architecture.md says why 64).
    if (ready_.size() == kReadyBatch) TakeReady();
    return;
  }
  if (!ready_.empty()) TakeReady();  // a connection's bytes are taken in order
  BatchScope batch(this);
  TakeRead(c, read_buf_, n);
}

void Server::OnReadyCheck(uv_check_t* check) {
  static_cast<Server*>(check->data)->TakeReady();
}

void Server::TakeReady() {
  uv_check_stop(&ready_check_);
  BatchScope batch(this);
  // TakeRead calls into JavaScript, which reads nothing: nothing is added to the queue
  // while it is taken.
  for (const ReadyRead& r : ready_) {
    Connection* c = r.c;
    if (c->state == Connection::State::kClosing || c->state == Connection::State::kLingering) {
      continue;
    }
    TakeRead(c, ready_bytes_.data() + r.offset, r.len);
  }
  ready_.clear();
  ready_bytes_.clear();
}

// What OnRead does with the bytes of a read, at once or from the queue (TakeReady), inside
// a batch.
void Server::TakeRead(Connection* c, const char* data, size_t n) {
  if (c->state == Connection::State::kWebSocket) {
    ReadWebSocket(c, data, n);
    UpdateReading(c);
    return;
  }
  if (c->state == Connection::State::kDispatched || c->close_after || c->output_blocked ||
      !c->inbuf.empty()) {
    c->inbuf.append(data, n);
    if (c->state == Connection::State::kDispatched || c->close_after || c->output_blocked) {
      UpdateReading(c);  // pipelined bytes wait for a response, or for the output
      return;
    }
    if (c->protocol == kProtocolHttp && c->state == Connection::State::kHead &&
        c->inbuf.size() < cfg_.buffer_size && std::memchr(data, '\n', n) == nullptr) {
      // A head can only complete on a line end: a client sending a byte at a time
      // does not make us parse the whole head again for each byte.
      return;
    }
    ProcessInbuf(c);
    return;
  }
  size_t used = Process(c, data, n);
  if (used < n && c->state != Connection::State::kClosing && !c->close_after) {
    c->inbuf.assign(data + used, n - used);
  }
  UpdateReading(c);
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
        c->state == Connection::State::kLingering || c->state == Connection::State::kWebSocket) {
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
      c->out.append(kContinueResponse, sizeof kContinueResponse - 1);
      MarkDirty(c);
    }
  }
  return off;
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
    if (c->upgrading) {
      s->HandOff(c);
      continue;
    }
    if (c->state == Connection::State::kWebSocket) {
      if (!c->inbuf.empty() && (!c->ws->paused || c->ws->close_sent) && !c->close_after) {
        s->ProcessWebSocketInbuf(c);
      }
      s->UpdateReading(c);
      continue;
    }
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
  AppendRefusal(&c->out, status);
  c->close_after = true;
  c->inbuf.clear();
  LogLine("refused " + std::to_string(status) + " " + RefusalText(status) + ": " + why, c);
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

}  // namespace tsgi
