// tsgi — the native HTTP/1.1 server: listen, accept, read, parse, buffer, write.
//
// It runs on Node's own loop (napi_get_uv_event_loop): no thread of its own. A
// request crosses into JavaScript once, when its head and whole body are at hand,
// as onRequest(id, flags, body, key1, value1, key2, value2, ...); the response
// comes back through send(id, head, body, flags), once for a body already at hand,
// or once per batch of a streamed one. Writes made while handling a batch of reads
// are corked and go out in one write per connection.
#ifndef TSGI_NATIVE_SERVER_H_
#define TSGI_NATIVE_SERVER_H_

#include <napi.h>
#include <uv.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocol/body_sink.h"
#include "protocol/cgi_vars.h"
#include "protocol/http_parser.h"
#include "protocol/request_log.h"
#include "protocol/key_table.h"
#include "process/scoreboard.h"
#include "protocol/uwsgi_parser.h"

namespace tsgi {

// Flags of send(); lib/native-server.ts holds the same numbers.
enum SendFlags : uint32_t {
  kSendChunked = 1,    // frame this call's body in chunked coding; with a head, say so
  kSendEnd = 2,        // the response is complete
  kSendClose = 4,      // close the connection once this response is out
  kSendAddLength = 8,  // with a head: add Content-Length, the length of this call's body
  kSendAbort = 16,     // cut the connection: an error after the head went out
};

// Flags passed to onRequest; bits 8 and up hold the index of the listener (in the
// order of listen() calls) that accepted the connection.
enum RequestFlags : uint32_t {
  kReqKeepAlive = 1,      // the client allows another request on this connection
  kReqHttp10 = 2,         // the request is HTTP/1.0 (no chunked response possible)
  kReqBodyFile = 4,       // body is a file descriptor (an unlinked temporary file)
  kReqNewConnection = 8,  // the first request of its connection: the peer is given
  kReqUwsgi = 16,         // came over the uwsgi protocol: the pairs carry the front end's CGI
};

// What a listener speaks.
enum Protocol : uint8_t { kProtocolHttp = 0, kProtocolUwsgi = 1 };
constexpr uint32_t kReqListenerShift = 8;

// The arguments of onRequest, in order:
//   id, flags, body, method, uri, path, query, contentType, contentLength,
//   remoteAddr, remotePort, key1, value1, key2, value2, ...
// body: undefined, a Buffer, or (kReqBodyFile) the fd of an unlinked temporary file.
// method: an index into the methods table given at construction, or a string.
// path, query: undefined when JavaScript can take them from uri itself (an
//   origin-form target without "%"); else the percent-decoded path and the query.
// contentType, contentLength: strings, or undefined when the request has none.
// remoteAddr, remotePort: strings on a connection's first request, else undefined.
// key: an index into the keys table given at construction, or a string.
// Every string is the request's bytes read as latin-1.
constexpr size_t kFixedArgs = 11;

struct ServerConfig {
  size_t buffer_size = 4096;        // the largest request head
  size_t post_buffering = 65536;    // the largest body kept in memory
  uint64_t limit_post = 0;          // the largest body accepted; 0: no limit
  uint64_t timeout_ms = 60000;      // idle, head, body-progress and write-progress timeout
  std::string tmp_dir = "/tmp";
  bool logging = true;  // the request's log values are kept: a line may be written
  RequestLogFilter log_filter;  // which requests get a line
  bool log_json = false;        // --log-encoder json: connection lines as JSON objects
  bool manage_script_name = false;  // --manage-script-name: SCRIPT_NAME off PATH_INFO (uwsgi)
  bool proxy_protocol = false;      // --enable-proxy-protocol: HTTP connections start with one
  int log_fd = 2;
  int core = 0;
};

class Server;
struct RequestState;
struct Listener;

// A connection's libuv stream handle. A uv_tcp_t for a unix socket's connections too:
// the stream code is the same, and uv_tcp_open costs one system call less per
// connection than uv_pipe_open (Server::Accept).
union StreamHandle {
  uv_tcp_t tcp;
  uv_stream_t stream;
  uv_handle_t handle;
};

struct Connection {
  enum class State : uint8_t {
    kIdle,        // between requests; no byte of the next one yet
    kHead,        // part of a head has arrived
    kBody,        // the head is in; the body is arriving
    kDispatched,  // the application has the request; its response is due
    kLingering,   // the last response is out; reading and dropping until EOF
    kClosing,     // uv_close was called
  };
  StreamHandle h;
  Server* server = nullptr;
  uint32_t slot = 0;
  uint32_t listener_index = 0;  // copied from the listener, which may close first
  Protocol protocol = kProtocolHttp;
  bool is_pipe = false;
  bool announced = false;  // the peer's address went to JavaScript already
  bool proxy_pending = false;  // its PROXY protocol header is still to come (Process)
  double id = -1;  // the current request's id; -1 when none
  State state = State::kIdle;
  bool reading = false;
  bool want_drain = false;   // send() reported backpressure; onDrain is owed
  bool close_after = false;  // close once the output is flushed
  bool dirty = false;        // has output to flush at the end of the batch
  bool resume_pending = false;
  bool chunked_response = false;
  bool close_after_response = false;  // the head went out with "Connection: close"
  bool refused = false;  // answered before its request was read whole
  bool output_blocked = false;  // pipelined requests wait: over kHighWater of output is queued
  std::string inbuf;         // an unfinished head or body, copied aside
  std::string out;           // corked output
  size_t inflight = 0;       // bytes handed to uv_write and not yet written
  uint64_t deadline = 0;     // uv_now() ms past which the state times out
  RequestState* req = nullptr;  // while a request is in progress
  char remote_addr[64] = {0};
  char remote_port[8] = {0};
  // The response, for the log line.
  uint64_t started_ns = 0;
  int resp_status = 0;
  size_t resp_header_count = 0;
  size_t resp_head_bytes = 0;
  uint64_t resp_body_bytes = 0;
  Connection* prev = nullptr;
  Connection* next = nullptr;
};

// A listening socket. It is polled, and accepted from, by the server itself rather
// than through uv_listen: libuv answers running out of descriptors (EMFILE) by
// refusing the waiting connections without telling its caller, and an operator has
// to be told (Server::AcceptFailed).
struct Listener {
  uv_poll_t poll;
  int fd = -1;  // owned: closed when the listener is
  Server* server = nullptr;
  bool is_pipe = false;
  Protocol protocol = kProtocolHttp;
  uint32_t index = 0;  // in the order of listen() calls
  bool paused = false;  // not polled after accept() failed; the tick polls it again
  // accept() failures not yet in a log line (one line a second at most), and when the
  // next line may be written (uv_now() ms).
  uint64_t unlogged_refused = 0;  // connections closed unserved
  uint64_t unlogged_failed = 0;   // accept() calls that failed and refused nothing
  int last_error = 0;             // errno of the latest failure
  bool logged_before = false;
  uint64_t next_log_at = 0;
};

class Server : public Napi::ObjectWrap<Server> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Server(const Napi::CallbackInfo& info);
  ~Server() override;

 private:
  friend struct BatchScope;
  // JavaScript methods.
  Napi::Value Listen(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value SetRequestCounter(const Napi::CallbackInfo& info);

  // libuv callbacks.
  static void OnAcceptable(uv_poll_t* poll, int status, int events);
  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void OnWrite(uv_write_t* req, int status);
  static void OnShutdown(uv_shutdown_t* req, int status);
  static void OnConnectionClosed(uv_handle_t* handle);
  static void OnListenerClosed(uv_handle_t* handle);
  static void OnTick(uv_timer_t* timer);
  static void OnResume(uv_idle_t* idle);
  static void OnFlushLog(uv_check_t* check);
  static void OnLogTimer(uv_timer_t* timer);
  void LogAppended();

  // read_now: read the new connection at once (the accept loop); false: only watch it,
  // its first read comes on a later loop turn (a last accept from close()).
  void Accept(Listener* l, int fd, const struct sockaddr_storage& peer, bool read_now = true);
  // Takes every connection waiting on l, to be served by a closing server: none of
  // them is reset by the listener's close.
  void AcceptWaiting(Listener* l);
  void AcceptFailed(Listener* l, int err);
  int64_t RefuseWaiting(Listener* l, bool* drained);
  void LogAcceptFailures(Listener* l);
  void CloseListeners();
  // Parses and handles what c has received. data/len is either the shared read
  // buffer or c->inbuf. Returns the bytes used; the caller keeps the rest aside.
  size_t Process(Connection* c, const char* data, size_t len);
  void ProcessInbuf(Connection* c);
  // Starts or stops reading from c: it reads unless it holds more pipelined bytes than
  // buffer-size plus one read while they wait (for the response that is due, for
  // blocked output to drain, or for a close), so that a client cannot fill our memory.
  void UpdateReading(Connection* c);
  // Consumes body bytes. Returns the bytes used, or SIZE_MAX when the connection
  // was refused.
  size_t FeedBody(Connection* c, const char* data, size_t len);
  // Hands a complete request to JavaScript: onRequest(...) (see kFixedArgs).
  void Dispatch(Connection* c, const HttpRequestHead& head, const char* body,
                size_t body_len);
  void DispatchBuffered(Connection* c);
  void DispatchHead(Connection* c, const char* body, size_t body_len);
  void DispatchUwsgi(Connection* c, const UwsgiRequest& u, const char* body, size_t body_len);
  void BeginDispatch(Connection* c, StrView method, StrView uri);
  napi_value MethodArg(StrView method);
  napi_value BodyArg(Connection* c, const char* body, size_t body_len, uint32_t* flags,
                     uint64_t* length);
  void RefusePacket(Connection* c, const char* why);
  // Takes the PROXY protocol header off data: the bytes it took, or SIZE_MAX when the
  // connection was refused (closed, no answer), or 0 while the header is incomplete.
  size_t TakeProxyHeader(Connection* c, const char* data, size_t len);
  void RefuseBody(Connection* c, int err);
  Napi::Value ListenUnix(const Napi::CallbackInfo& info);
  Napi::Value ListenFd(const Napi::CallbackInfo& info);
  bool StartListener(Napi::Env env, int fd, bool is_pipe, Protocol protocol,
                     const std::string& what);
  Napi::Value NoteException(const Napi::CallbackInfo& info);
  void EndRequest(Connection* c, bool close);
  void Refuse(Connection* c, int status, const std::string& why);
  void Flush(Connection* c);
  void MarkDirty(Connection* c);
  void FlushDirty();
  void AfterOutput(Connection* c);
  // Takes up c's waiting pipelined requests on the next loop turn (once, however often asked).
  void ScheduleResume(Connection* c);
  void StartLingering(Connection* c);
  void CloseConnection(Connection* c, bool abort_request);
  void CallJs(napi_ref fn, size_t argc, napi_value* argv);
  size_t AppendBody(std::string* out, napi_value v, bool* ok);
  // Writes c's request line (micros: its response time) when the log filter takes it.
  void LogRequest(Connection* c, uint64_t micros);
  void LogRequestInJs(Connection* c, uint64_t micros);
  void LogLine(const std::string& what, Connection* c);
  void FlushLog();
  void MaybeFinishClose();
  void FinishClose();
  RequestState* AcquireRequest();
  void ReleaseRequest(Connection* c);
  Connection* Lookup(double id);
  size_t Queued(const Connection* c) const { return c->out.size() + c->inflight; }

  Napi::Env env_;
  uv_loop_t* loop_ = nullptr;
  ServerConfig cfg_;
  napi_ref on_request_ = nullptr;
  napi_ref on_drain_ = nullptr;
  napi_ref on_abort_ = nullptr;
  napi_ref on_log_ = nullptr;  // a custom request log (lib/log-format.ts): returns the line
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
  void PauseListener(Listener* l);
  void ResumeListener(Listener* l, bool poll_again);
  Connection* conns_ = nullptr;  // every open connection, a doubly linked list
  size_t conn_count_ = 0;
  std::vector<Connection*> slots_;
  std::vector<uint32_t> free_slots_;
  uint32_t serial_ = 0;

  std::vector<std::unique_ptr<RequestState>> request_pool_;
  std::vector<Connection*> dirty_;
  std::vector<Connection*> resume_;
  int batch_depth_ = 0;

  uv_timer_t tick_;
  uv_idle_t resume_idle_;
  uv_check_t log_check_;
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
  uint64_t accept_errors_ = 0;  // connections refused, and accept() calls failed
  // A descriptor held in reserve, to be closed when the process runs out so that the
  // connections waiting can be accepted and closed (RefuseWaiting); -1 when spent.
  int reserve_fd_ = -1;

  static constexpr size_t kReadBufferSize = 65536;
  static constexpr size_t kHighWater = 65536;
  static constexpr size_t kLowWater = 16384;
  static constexpr size_t kLogFlushBytes = 32768;
  static constexpr uint64_t kLogFlushMs = 50;
  static constexpr uint64_t kCloseGraceMs = 1000;  // close(): idle keep-alive connections
  char* read_buf_ = nullptr;  // shared by every connection of this server
};

}  // namespace tsgi

#endif  // TSGI_NATIVE_SERVER_H_
