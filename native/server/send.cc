// The crossing back: send(id, head, body, flags), the response's bytes framed
// (protocol/response.h) into the connection's corked output, and the end of a request.
#include "protocol/response.h"
#include "server/server.h"
#include "server/typed_bytes.h"

namespace tsgi {

namespace {

// Room on the stack for a short string of send(): a head, or a body that is one string.
// Copied there in one call, where a string made to measure would take two (its length,
// then its bytes) and a fill of the room made.
constexpr size_t kShortHead = 1024;
constexpr size_t kShortBody = 4096;

// The bytes of a body given whole, where they are: a Uint8Array (a Buffer) in place, or a
// string's UTF-8 copied into room[kShortBody] when it fits there. False for anything else
// (a longer string, an array of chunks, undefined). A longer string is thrown away here
// and encoded whole by AppendBody: a 4 KB copy more, against two calls fewer for most.
bool WholeBytes(napi_env env, napi_value v, char* room, const char** data, size_t* len) {
  size_t copied = 0;
  if (napi_get_value_string_utf8(env, v, room, kShortBody, &copied) == napi_ok) {
    // V8 copies no partial character, and takes at most 3 bytes a UTF-16 unit (4 a pair):
    // a copy that ends this far from the end of the room left nothing out.
    if (copied + 8 >= kShortBody) return false;
    *data = room;
    *len = copied;
    return true;
  }
  return TypedBytes(env, v, data, len) == Typed::kBytes;
}

constexpr size_t kNoHead = SIZE_MAX;

// A head longer than kShortHead: measured, then copied into room made for it.
[[gnu::noinline, gnu::cold]] void AppendLongHead(napi_env env, napi_value head, std::string* out) {
  size_t len = 0;
  napi_get_value_string_latin1(env, head, nullptr, 0, &len);
  const size_t at = out->size();
  out->resize(at + len + 1);
  napi_get_value_string_latin1(env, head, &(*out)[at], len + 1, &len);
  out->resize(at + len);
}

// Appends a response head to *out: the status line's start (BeginHead), then head, a
// string of latin-1. Returns where the head begins in *out, or kNoHead when head is not a
// string (the call sends body only).
size_t AppendHead(napi_env env, napi_value head, std::string* out) {
  char room[kShortHead];
  size_t len = 0;
  if (napi_get_value_string_latin1(env, head, room, sizeof room, &len) != napi_ok) return kNoHead;
  const size_t start = BeginHead(out);
  if (len + 1 < sizeof room) out->append(room, len);
  else AppendLongHead(env, head, out);
  return start;
}

}  // namespace

size_t Server::AppendBody(std::string* out, napi_value v, bool* ok) {
  napi_env env = env_;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_string) {
    // A UTF-8 copy takes at most three bytes per UTF-16 unit, and the count of units
    // is at hand (no pass over the string): a short string is copied in one pass into
    // room that is surely enough. A long one is measured first, so that the room made
    // (and zeroed by resize) is what it needs.
    size_t units = 0;
    napi_get_value_string_utf16(env, v, nullptr, 0, &units);
    size_t room = 3 * units + 1;
    if (units > 1024) {
      napi_get_value_string_utf8(env, v, nullptr, 0, &room);
      room++;
    }
    const size_t at = out->size();
    out->resize(at + room);
    size_t copied = 0;
    napi_get_value_string_utf8(env, v, &(*out)[at], room, &copied);
    out->resize(at + copied);
    return copied;
  }
  if (t == napi_object) {
    const char* data = nullptr;
    size_t length = 0;
    const Typed typed = TypedBytes(env, v, &data, &length);
    if (typed == Typed::kBytes) {
      out->append(data, length);
      return length;
    }
    if (typed == Typed::kOther) {
      *ok = false;
      return 0;
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

// Ends the head that AppendHead began at c->out[start] (EndHead), and keeps its facts for
// the log and the scoreboard.
void Server::EndResponseHead(Connection* c, size_t start, const Framing& framing,
                             uint64_t body_len) {
  const HeadFacts facts = EndHead(&c->out, start, framing, body_len);
  c->resp_status = facts.status;
  c->resp_header_count = facts.header_count;
  c->resp_head_bytes = facts.head_bytes;
  if (framing.chunked) c->chunked_response = true;
  if (framing.close) c->close_after_response = true;
}

// A body that is not given whole (WholeBytes): a long string, an array of chunks, none,
// or one of a type send() refuses (*ok set false). Ends the head begun at start (kNoHead: none) and appends the body as framing
// says; returns its length. Out of Send's line (noinline), like the rest that a plain
// response does not need.
size_t Server::SendPieces(Connection* c, size_t start, const Framing& framing, napi_value body,
                          bool* ok) {
  size_t body_len = 0;
  if (start != kNoHead && framing.add_length) {
    // The length is the body's: copy the body aside first.
    body_scratch_.clear();
    body_len = AppendBody(&body_scratch_, body, ok);
    EndResponseHead(c, start, framing, body_len);
    c->out.append(body_scratch_);
  } else {
    if (start != kNoHead) EndResponseHead(c, start, framing, 0);
    if (framing.chunked) {
      body_scratch_.clear();
      body_len = AppendBody(&body_scratch_, body, ok);
      AppendChunk(&c->out, body_scratch_.data(), body_len);
    } else {
      body_len = AppendBody(&c->out, body, ok);
    }
  }
  if (body_scratch_.capacity() > kHighWater) std::string().swap(body_scratch_);
  return body_len;
}

void Server::ThrowBodyType(napi_env env) {
  napi_throw_type_error(env, "TSGI_ERR_BODY_TYPE", "A body chunk must be a string or a Uint8Array");
}

// send() with kSendAbort: an error after the head went out; the connection is cut.
void Server::SendAbort(Connection* c) {
  c->close_after = true;
  EndRequest(c, true);
  MarkDirty(c);
  if (batch_depth_ == 0) FlushDirty();
}

// send(id, head, body, flags) -> a SendResult (native/wire.h): go on, backpressure
// (wait for onDrain), or the connection is gone. head is undefined or "STATUS\r\n" followed by the
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
    napi_create_int32(env, kSendGone, &result);
    return Napi::Value(env, result);
  }
  RequestState* rs = c->req;
  const Framing framing = FramingOf(flags, rs->keep_alive, rs->http10, closing_);
  bool ok = true;
  size_t body_len = 0;
  napi_value body = info[2];
  // A body given whole (one Buffer in place, or one short string's UTF-8 on the stack) goes
  // to the output (Write, AppendChunk) in one piece, not copied aside first.
  char room[kShortBody];
  const char* bytes = nullptr;
  const bool whole = WholeBytes(env, body, room, &bytes, &body_len);
  TakeOutBuffer(c);
  const size_t start = AppendHead(env, info[1], &c->out);
  if (whole) {
    if (start != kNoHead) EndResponseHead(c, start, framing, body_len);
    if (framing.chunked) AppendChunk(&c->out, bytes, body_len);
    else Write(c, bytes, body_len);
  } else {
    body_len = SendPieces(c, start, framing, body, &ok);
  }
  c->resp_body_bytes += body_len;
  if (!ok) {
    ThrowBodyType(env);
    return Napi::Value();
  }
  if (flags & kSendAbort) {
    SendAbort(c);
    napi_create_int32(env, kSendGone, &result);
    return Napi::Value(env, result);
  }
  if (flags & kSendEnd) {
    if (c->chunked_response) AppendLastChunk(&c->out);
    // A head that said "Connection: close" binds the end of the response too.
    EndRequest(c, framing.close || c->close_after_response);
  }
  const int32_t ret = (flags & kSendEnd) ? kSendGoOn : WriteIfFull(c);
  MarkDirty(c);
  if (batch_depth_ == 0) FlushDirty();
  napi_create_int32(env, ret, &result);
  return Napi::Value(env, result);
}

// The scoreboard's part of a request's end: its time, bytes, status class and duration bucket.
void Server::RecordRequest(const Connection* c, uint64_t rt_us) {
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

int32_t Server::WriteIfFull(Connection* c) {
  if (Queued(c) <= kHighWater) return kSendGoOn;
  // Much output: corking gains nothing. Write now, and report backpressure only if the
  // socket did not take it, so that a write is in flight and OnWrite will call onDrain.
  Flush(c);
  const bool sending = c->state == Connection::State::kDispatched ||
                       c->state == Connection::State::kWebSocket;
  if (!sending || Queued(c) <= kHighWater) return kSendGoOn;
  c->want_drain = true;
  return kSendBackpressure;
}

void Server::RecordEnd(Connection* c) {
  if (TimesRequests()) {
    // One reading of the clock for the log line and the scoreboard.
    const uint64_t rt_us = (uv_hrtime() - c->started_ns) / 1000;
    if (cfg_.logging) LogRequest(c, rt_us);
    if (slot_ != nullptr) RecordRequest(c, rt_us);
  }
  ReleaseRequest(c);
}

void Server::EndRequest(Connection* c, bool close) {
  RecordEnd(c);
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
}  // namespace tsgi
