// tsgi — the native HTTP/1.1 server: listen, accept, read, parse, buffer, write.
//
// It runs on Node's own loop (napi_get_uv_event_loop): no thread of its own. A
// request crosses into JavaScript once, when its head and whole body are at hand,
// as onRequest(id, flags, body, ..., key1, value1, ...) (native/wire.h); the response
// comes back through send(id, head, body, flags), once for a body already at hand,
// or once per batch of a streamed one. Writes made while handling a batch of reads
// are corked and go out in one write per connection.
#ifndef TSGI_NATIVE_SERVER_H_
#define TSGI_NATIVE_SERVER_H_

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "process/scoreboard.h"
#include "protocol/cgi_vars.h"
#include "protocol/http_parser.h"
#include "protocol/key_table.h"
#include "protocol/uwsgi_parser.h"
#include "server/connection.h"
#include "server/listener.h"
#include "server/settings.h"
#include "wire.h"

namespace tsgi {

struct Framing;  // protocol/response.h

// The slot of a connection: the low kSlotBits of its requests' ids.
constexpr uint64_t kSlotMask = (uint64_t{1} << kSlotBits) - 1;

class Server : public Napi::ObjectWrap<Server> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Server(const Napi::CallbackInfo& info);
  ~Server() override;

 private:
  friend struct BatchScope;

  // server.cc — the N-API shell: listen entry points, counters.
  Napi::Value Listen(const Napi::CallbackInfo& info);
  Napi::Value ListenUnix(const Napi::CallbackInfo& info);
  Napi::Value ListenFd(const Napi::CallbackInfo& info);
  Napi::Value NoteException(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value SetRequestCounter(const Napi::CallbackInfo& info);

  // listener.cc — accepting, with the EMFILE reserve.
  bool StartListener(Napi::Env env, int fd, bool is_pipe, Protocol protocol,
                     const std::string& what);
  static void OnAcceptable(uv_poll_t* poll, int status, int events);
  static void OnListenerClosed(uv_handle_t* handle);
  // read_now: read the new connection at once (the accept loop); false: only watch it,
  // its first read comes on a later loop turn (a last accept from close()).
  void Accept(Listener* l, int fd, const struct sockaddr_storage& peer, bool read_now = true);
  // Takes every connection waiting on l, to be served by a closing server: none of
  // them is reset by the listener's close.
  void AcceptWaiting(Listener* l);
  void AcceptFailed(Listener* l, int err);
  int64_t RefuseWaiting(Listener* l, bool* drained);
  void LogAcceptFailures(Listener* l);
  void PauseListener(Listener* l);
  void ResumeListener(Listener* l, bool poll_again);
  void CloseListeners();

  // reading.cc — a connection's input and its parse state; refusals.
  // A connection's poll: writable (OnWritable), then readable (recv into read_buf_,
  // OnRead); the poll's own error is read as one.
  static void OnPoll(uv_poll_t* poll, int status, int events);
  // nread bytes in read_buf_ from c, or < 0: EOF or an error (-errno).
  void OnRead(Connection* c, ssize_t nread);
  // One recv from c into read_buf_, handled by OnRead unless nothing was there; returns
  // recv's count (0 at EOF, -errno: -EAGAIN when nothing was there).
  ssize_t ReadOnce(Connection* c);
  static void OnResume(uv_idle_t* idle);
  static void OnReadyCheck(uv_check_t* check);
  void TakeReady();
  void TakeRead(Connection* c, const char* data, size_t n);
  // Parses and handles what c has received. data/len is either the shared read
  // buffer or c->inbuf. Returns the bytes used; the caller keeps the rest aside.
  size_t Process(Connection* c, const char* data, size_t len);
  void ProcessInbuf(Connection* c);
  // Takes the PROXY protocol header off data: the bytes it took, or SIZE_MAX when the
  // connection was refused (closed, no answer), or 0 while the header is incomplete.
  size_t TakeProxyHeader(Connection* c, const char* data, size_t len);
  // Consumes body bytes. Returns the bytes used, or SIZE_MAX when the connection
  // was refused.
  size_t FeedBody(Connection* c, const char* data, size_t len);
  void DispatchBuffered(Connection* c);
  // Takes up c's waiting pipelined requests on the next loop turn (once, however often asked).
  void ScheduleResume(Connection* c);
  void Refuse(Connection* c, int status, const std::string& why);
  void RefuseBody(Connection* c, int err);
  void RefusePacket(Connection* c, const char* why);

  // dispatch.cc — the crossing into JavaScript: onRequest(...) (native/wire.h).
  void DispatchHead(Connection* c, const char* body, size_t body_len);
  void Dispatch(Connection* c, const HttpRequestHead& head, const char* body,
                size_t body_len);
  void DispatchUwsgi(Connection* c, const UwsgiRequest& u, const char* body, size_t body_len);
  void BeginDispatch(Connection* c, StrView method, StrView uri);
  napi_value MethodArg(StrView method);
  napi_value BodyArg(Connection* c, const char* body, size_t body_len, napi_value undefined,
                     uint32_t* flags, uint64_t* length);
  [[gnu::noinline]] void NoteForLog(Connection* c, const HttpRequestHead& head,
                                    size_t other_bytes, size_t vars, size_t header_bytes);
  void CallJs(napi_ref fn, size_t argc, napi_value* argv);
  void CloseCallbackScope();
  RequestState* AcquireRequest();
  void ReleaseRequest(Connection* c);
  Connection* Lookup(double id);

  // send.cc — the crossing back: send(), framed by protocol/response.h; a request's end.
  Napi::Value Send(const Napi::CallbackInfo& info);
  void EndResponseHead(Connection* c, size_t start, const Framing& framing, uint64_t body_len);
  [[gnu::noinline]] size_t SendPieces(Connection* c, size_t start, const Framing& framing,
                                      napi_value body, bool* ok);
  [[gnu::noinline, gnu::cold]] static void ThrowBodyType(napi_env env);
  [[gnu::noinline, gnu::cold]] void SendAbort(Connection* c);
  size_t AppendBody(std::string* out, napi_value v, bool* ok);
  void EndRequest(Connection* c, bool close);
  // After output was queued for c (send(), wsSend()): writes it now when over kHighWater;
  // kSendBackpressure (onDrain owed) when the socket did not take enough, else kSendGoOn.
  int32_t WriteIfFull(Connection* c);
  // A request's end in the log and the scoreboard, and its state back to the pool.
  void RecordEnd(Connection* c);
  void RecordRequest(const Connection* c, uint64_t rt_us);
  // Whether a request's time is wanted: by the request log or the scoreboard. Without
  // either, no clock is read for it (a read is a measurable share of a small request).
  bool TimesRequests() const { return cfg_.logging || slot_ != nullptr; }

  // upgrade.cc — an upgraded connection handed to JavaScript (native/wire.h upgrade()).
  Napi::Value Upgrade(const Napi::CallbackInfo& info);
  // The connection of the request named by info[0] when it may switch protocols (it
  // offered an upgrade, none is under way, nothing of its response went out), or nullptr.
  Connection* Upgradable(const Napi::CallbackInfo& info);
  // setUpgraded(count): the upgraded connections open, for the scoreboard's gauge.
  Napi::Value SetUpgraded(const Napi::CallbackInfo& info);
  // Hands c over once its output is out (else AfterOutput asks again).
  void HandOff(Connection* c);

  // websocket.cc — a connection switched to WebSocket, frames parsed and written here
  // (native/wire.h websocket(), wsSend(), wsClose(), wsPause(), wsTerminate()).
  Napi::Value WebSocket(const Napi::CallbackInfo& info);
  Napi::Value WsSend(const Napi::CallbackInfo& info);
  Napi::Value WsClose(const Napi::CallbackInfo& info);
  Napi::Value WsPause(const Napi::CallbackInfo& info);
  Napi::Value WsTerminate(const Napi::CallbackInfo& info);
  // The WebSocket named by info[0] (a websocket() id), or nullptr.
  // The open WebSocket id (info[0]) names (lingering: also one whose close is done), or null.
  Connection* LookupWebSocket(const Napi::CallbackInfo& info, bool lingering = false);
  Connection* WebSocketById(double id);
  // A read of a WebSocket connection: its frames parsed, its messages delivered.
  void ReadWebSocket(Connection* c, const char* data, size_t len);
  void ProcessWebSocketInbuf(Connection* c);
  // Parses the frames in data[0..len) (unmasked in place); returns the bytes used.
  size_t ParseFrames(Connection* c, char* data, size_t len);
  // A whole message, kept until the check phase (OnWsCheck) delivers every one.
  void QueueMessage(Connection* c, bool text, const char* data, size_t len);
  static void OnWsCheck(uv_check_t* check);
  // onWsMessages(id1, m1, id2, m2, ...) with the messages queued.
  void DeliverMessages();
  void SendWsClose(Connection* c, uint16_t code, const char* reason, size_t reason_len);
  // onWsClose(id, code, reason), once, as the connection closes.
  void ReportWebSocketClosed(Connection* c);

  // output.cc — cork, write, backpressure.
  // Writes what c->pending holds as the socket takes it; once it is out, what piled
  // up meanwhile, and onDrain when the output is low again.
  void OnWritable(Connection* c);
  // Makes c's poll watch what c needs now: readable while c->reading, writable while
  // c->inflight. A uv_poll_start (an epoll_ctl DEL at once and an ADD at the next poll)
  // only when that changes; the poll itself is made in to_watch_'s turn.
  void UpdatePoll(Connection* c);
  // Just before the loop polls: makes the polls of the connections in to_watch_ that
  // are still open and still wait for something, then forgets the connections without a
  // poll closed since the last turn (reap_).
  static void OnPrepare(uv_prepare_t* prepare);
  // Starts or stops reading from c: it reads unless it holds more pipelined bytes than
  // buffer-size plus one read while they wait (for the response that is due, for
  // blocked output to drain, or for a close), so that a client cannot fill our memory.
  void UpdateReading(Connection* c);
  void MarkDirty(Connection* c);
  void TakeOutBuffer(Connection* c);
  void ReturnOutBuffer(Connection* c);
  void FlushDirty();
  void Flush(Connection* c);
  // Queues len bytes at data after c's output; a large run (kDirectWrite or more) with
  // nothing in flight is written at once, from data itself, with what is queued before it.
  void Write(Connection* c, const char* data, size_t len);
  void AfterOutput(Connection* c);
  size_t Queued(const Connection* c) const { return c->out.size() + c->inflight; }

  // log.cc — log buffering.
  static void OnFlushLog(uv_check_t* check);
  static void OnLogTimer(uv_timer_t* timer);
  void LogAppended();
  // Writes c's request line (micros: its response time) when the log filter takes it.
  void LogRequest(Connection* c, uint64_t micros);
  void LogRequestInJs(Connection* c, uint64_t micros);
  void LogLine(const std::string& what, Connection* c);
  void FlushLog();

  // The scoreboard's open connections: those not switched to WebSocket (JavaScript counts
  // those, with the upgraded ones: setUpgraded).
  void CountConnections() {
    if (slot_ != nullptr) slot_->connections.store(conn_count_ - websockets_, std::memory_order_relaxed);
  }

  // closing.cc — timeouts and closing.
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  static void OnTick(uv_timer_t* timer);
  static void OnConnectionClosed(uv_handle_t* handle);
  // A closed connection's end: its request's log line, its slot, its memory.
  void ForgetConnection(Connection* c);
  void StartLingering(Connection* c);
  // Output the socket did not take waits from now (http-timeout); OutputMoved: the client
  // took some of what the kernel holds since it was last looked at, and the deadline moves
  // (OnTick, every tick while output waits).
  void OutputWaits(Connection* c);
  void OutputMoved(Connection* c, uint64_t now);
  // The client took output at now: http-timeout from now, where c's deadline is its
  // output's (idle, dispatched, a WebSocket), not a head's or a body's 408 or a linger's end.
  void OutputProgressed(Connection* c, uint64_t now) {
    if (c->state == Connection::State::kIdle || c->state == Connection::State::kDispatched ||
        c->state == Connection::State::kWebSocket) {
      c->deadline = now + cfg_.timeout_ms;
    }
  }
  // When an idle keep-alive connection's grace ends if the server's close begins now
  // (kCloseGraceMs, or http-timeout when shorter): Close, and AfterOutput for a
  // connection whose output goes out after it.
  uint64_t CloseGraceEnd() const {
    return uv_now(loop_) + (cfg_.timeout_ms < kCloseGraceMs ? cfg_.timeout_ms : kCloseGraceMs);
  }
  void CloseConnection(Connection* c, bool abort_request);
  void MaybeFinishClose();
  void FinishClose();

  Napi::Env env_;
  uv_loop_t* loop_ = nullptr;
  ServerConfig cfg_;
  napi_ref on_request_ = nullptr;
  napi_ref on_drain_ = nullptr;
  napi_ref on_abort_ = nullptr;
  napi_ref on_upgrade_ = nullptr;
  napi_ref on_ws_messages_ = nullptr;
  napi_ref on_ws_close_ = nullptr;
  napi_ref on_log_ = nullptr;  // a custom request log (lib/logging/log-format.ts): returns the line
  napi_ref on_close_ = nullptr;
  napi_async_context async_context_ = nullptr;

  KeyTable keys_;                  // header name -> index of its HTTP_* key
  KeyTable var_keys_;              // environ key -> its index (uwsgi vars)
  std::unique_ptr<HttpRequestHead> http_head_;  // the head being parsed (4 KiB: not on the stack)
  std::unique_ptr<UwsgiRequest> uwsgi_req_;
  std::vector<napi_value> argv_;  // onRequest's arguments, reused
  std::vector<std::string> methods_;  // method -> index, for the common ones
  std::vector<Listener*> listeners_;
  uint32_t listen_count_ = 0;
  size_t open_listeners_ = 0;
  // Listeners not polled after accept() failed: while there are any, the tick keeps the
  // loop alive (it is what polls them again), else a server with no connection would exit.
  size_t paused_listeners_ = 0;
  Connection* conns_ = nullptr;  // every open connection, a doubly linked list
  size_t conn_count_ = 0;
  size_t websockets_ = 0;  // of them, switched to WebSocket (counted as such by JavaScript)
  std::vector<Connection*> slots_;
  std::vector<uint32_t> free_slots_;
  uint32_t serial_ = 0;

  std::vector<std::unique_ptr<RequestState>> request_pool_;
  // Output buffers of connections whose output went out whole, last in first out
  // (TakeOutBuffer, ReturnOutBuffer): the next response is written into memory still in
  // the cache, where each connection's own would be cold after its idle time, and an idle
  // connection holds no buffer.
  std::vector<std::string> out_pool_;
  std::vector<Connection*> dirty_;
  std::vector<Connection*> resume_;
  std::vector<Connection*> reap_;  // closed with no poll: forgotten just before the loop polls again (OnPrepare)
  // Reads of requests' starts, kept for OnReadyCheck (OnRead): each connection's bytes at
  // offset in ready_bytes_.
  struct ReadyRead {
    Connection* c;
    size_t offset;
    size_t len;
  };
  std::vector<ReadyRead> ready_;
  std::string ready_bytes_;
  int batch_depth_ = 0;
  bool loop_batch_ = false;                     // the outermost BatchScope's from_loop
  int batch_calls_ = 0;                         // its calls into JavaScript so far
  napi_callback_scope callback_scope_ = nullptr;  // open from a loop batch's first CallJs to its end

  uv_timer_t tick_;
  uv_idle_t resume_idle_;
  uv_check_t log_check_;
  uv_check_t ws_check_;  // started while messages wait for JavaScript
  uv_check_t ready_check_;  // started while reads wait in ready_
  uv_prepare_t prepare_;  // started while to_watch_ or reap_ holds any
  std::vector<Connection*> to_watch_;
  struct QueuedMessage {
    double id;
    size_t offset;  // in ws_bytes_
    size_t len;
    bool text;
  };
  std::vector<QueuedMessage> ws_queue_;
  std::string ws_bytes_;
  uv_timer_t log_timer_;
  bool log_timer_armed_ = false;
  bool handles_open_ = false;
  bool grace_timer_armed_ = false;
  uint64_t tick_interval_ = 1000;
  int handles_closing_ = 0;
  bool closing_ = false;
  bool close_notified_ = false;
  bool referenced_ = false;

  std::string scratch_;      // a decoded path, a joined header value
  std::string key_scratch_;  // an HTTP_* key that the keys table lacks
  std::string body_scratch_;  // a body whose length goes before it
  std::unique_ptr<Scoreboard> scoreboard_;  // a worker's mapping, under a master
  ScoreboardSlot* slot_ = nullptr;          // this worker core's slot
  InProgress in_progress_;                  // what slot_ shows of the requests in progress
  std::string log_buf_;
  std::string server_name_;
  long pid_ = 0;
  uint64_t requests_ = 0;        // this server's requests
  uint64_t total_requests_ = 0;  // the count of every worker, when a master keeps one
  uint64_t refused_ = 0;
  uint64_t aborted_ = 0;
  uint64_t upgraded_ = 0;  // connections handed to JavaScript (stats: "upgraded")
  uint64_t accept_errors_ = 0;  // connections refused, and accept() calls failed
  // A descriptor held in reserve, to be closed when the process runs out so that the
  // connections waiting can be accepted and closed (RefuseWaiting); -1 when spent.
  int reserve_fd_ = -1;

  static constexpr size_t kReadBufferSize = 65536;
  // A read up to this size that starts a request waits for the others of its turn of the
  // loop (OnRead); the bytes so kept are taken at once past kReadyBytesMax.
  static constexpr size_t kReadyMax = 16384;
  static constexpr size_t kReadyBytesMax = 262144;
  static constexpr size_t kReadyBatch = 64;  // reads a batch takes at most (OnRead)
  static constexpr size_t kHighWater = 65536;
  // A body run from this size on is written from the application's buffer, not copied
  // into the corked output (output.cc Server::Write): the copy would cost more than the
  // write corking saves.
  static constexpr size_t kDirectWrite = 16384;
  static constexpr size_t kLowWater = 16384;
  static constexpr size_t kLogFlushBytes = 32768;
  static constexpr uint64_t kLogFlushMs = 50;
  static constexpr uint64_t kCloseGraceMs = 1000;  // close(): idle keep-alive connections
  char* read_buf_ = nullptr;  // shared by every connection of this server
};

// Every entry into JavaScript from a libuv callback runs inside a BatchScope: the
// output it makes is corked and flushed, one write per connection, when the
// outermost scope ends.
// A batch entered from a libuv callback (from_loop) also makes its calls into JavaScript
// after the first (pipelined requests of one read) in one callback scope: the microtasks
// and process.nextTick callbacks they leave run once, as the batch ends (before its
// flush, so that what they send goes out in the same write), not after each call, as
// napi_make_callback would. Node's own HTTP parser
// likewise runs every pipelined request of a read before the microtasks. A batch entered
// from JavaScript (destroy()) is already inside the caller's scope.
struct BatchScope {
  explicit BatchScope(Server* s, bool from_loop = true) : server(s), scope(s->env_) {
    if (s->batch_depth_++ == 0) {
      s->loop_batch_ = from_loop;
      s->batch_calls_ = 0;
    }
  }
  ~BatchScope() {
    if (server->batch_depth_ == 1) server->CloseCallbackScope();
    if (--server->batch_depth_ == 0) server->FlushDirty();
  }
  Server* server;
  Napi::HandleScope scope;
};

}  // namespace tsgi

#endif  // TSGI_NATIVE_SERVER_H_
