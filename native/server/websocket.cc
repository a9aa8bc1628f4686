// A connection that switched to WebSocket stays the server's: websocket(id, head,
// maxMessage) (native/wire.h) writes the 101 the application's handshake made, ends
// the request (logged with 101, out of the requests in progress) and puts the
// connection in kWebSocket. From there its reads are frames, parsed in place by
// protocol/websocket_parser.cc; pings are answered and the closing handshake is made
// here. Whole messages are kept (copied aside) until the loop's check phase, which comes
// once the poll phase has read every connection that was readable: then they all cross
// into JavaScript in one onWsMessages call, whatever connections they came from, so that
// the crossing (and the promise jobs after it) is paid once per loop turn, not once per
// message, and the answers the application sends meanwhile are corked and written once
// per connection. wsSend() frames a message into the corked output, as send() does a
// response.
#include <algorithm>
#include <cstring>

#include "server/server.h"
#include "server/typed_bytes.h"

namespace tsgi {

namespace {

// Messages per onWsMessages call, at most.
constexpr size_t kMessagesPerCall = 512;

}  // namespace

Connection* Server::LookupWebSocket(const Napi::CallbackInfo& info, bool lingering) {
  double id = -1;
  napi_get_value_double(info.Env(), info[0], &id);
  Connection* c = WebSocketById(id);
  if (c == nullptr) return nullptr;
  if (c->state == Connection::State::kWebSocket) return c;
  return lingering && c->state == Connection::State::kLingering ? c : nullptr;
}

Connection* Server::WebSocketById(double id) {
  if (!(id >= 0)) return nullptr;
  const uint64_t slot = static_cast<uint64_t>(id) & kSlotMask;
  if (slot >= slots_.size()) return nullptr;
  Connection* c = slots_[slot];
  if (c == nullptr || c->id != id || c->ws == nullptr) return nullptr;
  return c;
}

Napi::Value Server::WebSocket(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  Connection* c = Upgradable(info);
  const bool ok = c != nullptr;
  if (ok) {
    // The head: latin-1, as send() takes one, with its blank line.
    size_t n = 0;
    napi_get_value_string_latin1(env, info[1], nullptr, 0, &n);
    const size_t at = c->out.size();
    c->out.resize(at + n + 1);
    napi_get_value_string_latin1(env, info[1], &c->out[at], n + 1, &n);
    c->out.resize(at + n);
    // For the log line: its header lines (every line after the status line).
    const auto lines = std::count(c->out.begin() + static_cast<std::ptrdiff_t>(at), c->out.end(), '\n');
    c->resp_header_count = lines > 0 ? static_cast<size_t>(lines - 1) : 0;
    c->out.append("\r\n", 2);
    c->resp_head_bytes = n + 2;
    double max_message = 0;
    napi_get_value_double(env, info[2], &max_message);
    c->resp_status = 101;
    RecordEnd(c);
    c->state = Connection::State::kWebSocket;
    c->deadline = 0;  // an idle WebSocket is not timed out (a stalled write is: OnTick)
    c->ws.reset(new WebSocketState(max_message > 0 ? static_cast<uint64_t>(max_message) : 0));
    upgraded_++;
    websockets_++;
    CountConnections();
    if (closing_) {
      // The server is stopping (its connections were told so already): this one opens and
      // goes away at once, as they did, and its peer's close is awaited for http-timeout.
      static constexpr char kGoingAway[] = "server going away";
      SendWsClose(c, kWsGoingAway, kGoingAway, sizeof kGoingAway - 1);
      c->deadline = uv_now(loop_) + cfg_.timeout_ms;
    }
    MarkDirty(c);
    // The bytes read past the request (the first frames) wait in inbuf, or will once
    // the Process call that dispatched it returns: parsed on the next loop turn.
    ScheduleResume(c);
    if (batch_depth_ == 0) FlushDirty();
  }
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return Napi::Value(env, result);
}

Napi::Value Server::WsSend(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  Connection* c = LookupWebSocket(info);
  int32_t result = kSendGone;
  uint32_t kind = kWsSendMessage;
  if (info.Length() > 2) napi_get_value_uint32(env, info[2], &kind);
  if (c != nullptr && !c->ws->close_sent) {
    napi_value v = info[1];
    napi_valuetype type;
    napi_typeof(env, v, &type);
    char header[kWsMaxServerHeader];
    TakeOutBuffer(c);
    if (type == napi_string) {
      // A string is a text message: its UTF-8 length first, then the bytes in place.
      size_t n = 0;
      napi_get_value_string_utf8(env, v, nullptr, 0, &n);
      if (kind == kWsSendPing && n > kWsMaxControlPayload) n = kWsMaxControlPayload;
      c->out.append(header, WriteWsFrameHeader(kind == kWsSendPing ? kWsPing : kWsText, n, header));
      const size_t at = c->out.size();
      c->out.resize(at + n + 1);
      napi_get_value_string_utf8(env, v, &c->out[at], n + 1, &n);
      c->out.resize(at + n);
      // A ping cut to 125 bytes may stop short of them, at a character's boundary: its
      // header (2 bytes) says what was written.
      if (kind == kWsSendPing) c->out[at - 1] = static_cast<char>(n);
    } else {
      // Bytes (a Uint8Array: a Buffer) are a binary message.
      const char* data = nullptr;
      size_t n = 0;
      if (TypedBytes(env, v, &data, &n) != Typed::kBytes) {
        napi_throw_type_error(env, nullptr, "wsSend: a message is a string or a Uint8Array");
        return Napi::Value();
      }
      if (kind == kWsSendPing && n > kWsMaxControlPayload) n = kWsMaxControlPayload;
      c->out.append(header, WriteWsFrameHeader(kind == kWsSendPing ? kWsPing : kWsBinary, n, header));
      if (n != 0) Write(c, data, n);
    }
    result = WriteIfFull(c);
    if (c->state == Connection::State::kClosing) {
      result = kSendGone;  // the write failed: the connection is gone
    } else {
      MarkDirty(c);
      if (batch_depth_ == 0) FlushDirty();
    }
  }
  napi_value r;
  napi_create_int32(env, result, &r);
  return Napi::Value(env, r);
}

Napi::Value Server::WsClose(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  Connection* c = LookupWebSocket(info);
  if (c != nullptr && !c->ws->close_sent) {
    int32_t code = kWsNormal;
    napi_get_value_int32(env, info[1], &code);
    // The reason as UTF-8, copied as a string body is (send.cc AppendBody).
    std::string reason;
    bool ok = true;
    AppendBody(&reason, info[2], &ok);
    SendWsClose(c, static_cast<uint16_t>(code), reason.data(), reason.size());
    // The peer's close is awaited for http-timeout at most (OnTick), and read even if
    // JavaScript's queue paused reading (UpdateReading): frames that wait are parsed.
    c->deadline = uv_now(loop_) + cfg_.timeout_ms;
    UpdateReading(c);
    if (!c->inbuf.empty()) ScheduleResume(c);
    if (batch_depth_ == 0) FlushDirty();
  }
  return info.Env().Undefined();
}

Napi::Value Server::WsPause(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  Connection* c = LookupWebSocket(info);
  if (c != nullptr) {
    bool paused = false;
    napi_get_value_bool(env, info[1], &paused);
    c->ws->paused = paused;
    UpdateReading(c);
    if (!paused && !c->inbuf.empty()) ScheduleResume(c);
  }
  return info.Env().Undefined();
}

Napi::Value Server::WsTerminate(const Napi::CallbackInfo& info) {
  // Also one lingering after its closing handshake: terminate() ends it now.
  Connection* c = LookupWebSocket(info, true);
  if (c != nullptr) {
    BatchScope batch(this);
    CloseConnection(c, false);
  }
  return info.Env().Undefined();
}

void Server::SendWsClose(Connection* c, uint16_t code, const char* reason, size_t reason_len) {
  char payload[kWsMaxControlPayload];
  const size_t n = WriteWsClosePayload(code, reason, reason_len, payload);
  char header[kWsMaxServerHeader];
  c->out.append(header, WriteWsFrameHeader(kWsClose, n, header));
  c->out.append(payload, n);
  c->ws->close_sent = true;
  MarkDirty(c);
}

void Server::ReadWebSocket(Connection* c, const char* data, size_t len) {
  if (c->inbuf.empty()) {
    // Parsed where it landed (the shared read buffer, which is ours to write: frames are
    // unmasked in place); a frame not complete is kept aside.
    const size_t used = ParseFrames(c, const_cast<char*>(data), len);
    if (used < len && c->state == Connection::State::kWebSocket && !c->ws->close_received) {
      c->inbuf.assign(data + used, len - used);
    }
    return;
  }
  c->inbuf.append(data, len);
  ProcessWebSocketInbuf(c);
}

void Server::ProcessWebSocketInbuf(Connection* c) {
  std::string data;
  data.swap(c->inbuf);
  const size_t used = ParseFrames(c, &data[0], data.size());
  if (c->state != Connection::State::kWebSocket || c->ws->close_received) return;
  data.erase(0, used);
  data.append(c->inbuf);
  c->inbuf.swap(data);
}

size_t Server::ParseFrames(Connection* c, char* data, size_t len) {
  WebSocketState* ws = c->ws.get();
  size_t off = 0;
  while (off < len && !ws->close_received) {
    WsEvent ev;
    WsError err;
    const ssize_t r = ws->parser.Next(data + off, len - off, &ev, &err);
    if (r == kParseNeedMore) break;
    if (r == kParseBad) {
      // The client broke the protocol: our close says why, and nothing more is read.
      ws->close_received = true;
      ws->code = err.code;
      ws->reason = err.reason;
      if (!ws->close_sent) SendWsClose(c, err.code, err.reason, std::strlen(err.reason));
      c->close_after = true;
      off = len;
      break;
    }
    off += static_cast<size_t>(r);
    switch (ev.kind) {
      case WsEventKind::kFragment:
      case WsEventKind::kPong:
        break;
      case WsEventKind::kText:
      case WsEventKind::kBinary:
        // After our close, only the peer's close matters (RFC 6455 §5.5.1): reading goes
        // on for it even while JavaScript's queue is full, and messages are dropped.
        if (!ws->close_sent) QueueMessage(c, ev.kind == WsEventKind::kText, ev.data, ev.len);
        break;
      case WsEventKind::kPing:
        // Answered while what is queued for the peer is under kHighWater: a peer that
        // pings and reads nothing cannot make it grow (RFC 6455 §5.5.3 lets a pong answer
        // only the latest ping).
        if (!ws->close_sent && Queued(c) <= kHighWater) {
          char header[kWsMaxServerHeader];
          c->out.append(header, WriteWsFrameHeader(kWsPong, ev.len, header));
          c->out.append(ev.data, ev.len);
          MarkDirty(c);
        }
        break;
      case WsEventKind::kClose:
        // The closing handshake: our close answers theirs with its code (none for
        // none), unless ours went first; then the connection ends once it is out.
        ws->close_received = true;
        ws->code = ev.close_code;
        ws->reason.assign(ev.data, ev.len);
        if (!ws->close_sent) SendWsClose(c, ev.close_code, ev.data, ev.len);
        c->close_after = true;
        off = len;  // nothing after a close is read
        break;
    }
  }
  if (c->close_after && c->state == Connection::State::kWebSocket) {
    c->inbuf.clear();
    MarkDirty(c);  // AfterOutput ends it once the close frame is out
  }
  return off;
}

void Server::QueueMessage(Connection* c, bool text, const char* data, size_t len) {
  if (ws_queue_.empty()) uv_check_start(&ws_check_, OnWsCheck);
  ws_queue_.push_back({c->id, ws_bytes_.size(), len, text});
  ws_bytes_.append(data, len);
}

void Server::OnWsCheck(uv_check_t* check) {
  Server* s = static_cast<Server*>(check->data);
  BatchScope batch(s);
  s->DeliverMessages();
}

void Server::DeliverMessages() {
  uv_check_stop(&ws_check_);
  // Taken aside: JavaScript may close a connection meanwhile (and so deliver again).
  std::vector<QueuedMessage> queue;
  std::string bytes;
  queue.swap(ws_queue_);
  bytes.swap(ws_bytes_);
  std::vector<napi_value> argv;
  argv.reserve(2 * (queue.size() < kMessagesPerCall ? queue.size() : kMessagesPerCall));
  for (size_t i = 0; i < queue.size(); i++) {
    const QueuedMessage& m = queue[i];
    napi_value id, data;
    napi_create_double(env_, m.id, &id);
    void* copy;
    const napi_status st =
        m.text ? napi_create_string_utf8(env_, bytes.data() + m.offset, m.len, &data)
               : napi_create_buffer_copy(env_, m.len, bytes.data() + m.offset, &copy, &data);
    if (st == napi_ok) {
      argv.push_back(id);
      argv.push_back(data);
    } else {
      // More than a JavaScript string or Buffer holds (V8's limit, under what
      // --websocket-max-size allows): the connection is closed as for a message too big.
      napi_value ignored;
      napi_get_and_clear_last_exception(env_, &ignored);
      Connection* c = WebSocketById(m.id);
      if (c != nullptr && c->state == Connection::State::kWebSocket && !c->ws->close_sent) {
        static constexpr char kTooBig[] = "a message larger than JavaScript holds";
        SendWsClose(c, kWsTooBig, kTooBig, sizeof kTooBig - 1);
        c->deadline = uv_now(loop_) + cfg_.timeout_ms;
      }
    }
    if (!argv.empty() && (argv.size() == 2 * kMessagesPerCall || i + 1 == queue.size())) {
      CallJs(on_ws_messages_, argv.size(), argv.data());
      argv.clear();
    }
  }
  // Keep the buffers' room for the next turn, unless a large message grew them.
  if (bytes.capacity() <= 65536 && ws_bytes_.empty()) {
    bytes.clear();
    ws_bytes_.swap(bytes);
  }
  if (queue.capacity() <= 4096 && ws_queue_.empty()) {
    queue.clear();
    ws_queue_.swap(queue);
  }
}

void Server::ReportWebSocketClosed(Connection* c) {
  WebSocketState* ws = c->ws.get();
  if (ws == nullptr || ws->reported) return;
  ws->reported = true;
  // Its messages go first.
  if (!ws_queue_.empty()) DeliverMessages();
  napi_value argv[3];
  napi_create_double(env_, c->id, &argv[0]);
  napi_create_uint32(env_, ws->code, &argv[1]);
  napi_create_string_utf8(env_, ws->reason.data(), ws->reason.size(), &argv[2]);
  CallJs(on_ws_close_, 3, argv);
}

}  // namespace tsgi
