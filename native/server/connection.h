// tsgi — a client connection and the request in progress on it: the state the
// server's files share (reading, dispatch, output, closing).
#ifndef TSGI_NATIVE_SERVER_CONNECTION_H_
#define TSGI_NATIVE_SERVER_CONNECTION_H_

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "process/scoreboard.h"
#include "protocol/body_sink.h"
#include "protocol/http_parser.h"
#include "protocol/websocket_parser.h"
#include "wire.h"

namespace tsgi {

class Server;

// What a request needs while it is in progress: its variables, its body and the
// chunked decoder. Pooled by the server, so an idle connection holds none.
struct RequestState {
  // The head, copied aside when the body arrives in later reads (the read buffer is
  // shared); parsed again when the body is complete.
  std::string head_bytes;
  bool uwsgi = false;  // head_bytes is a uwsgi packet, not an HTTP head
  BodySink sink;
  ChunkedDecoder decoder;
  BodyFraming framing = BodyFraming::kNone;
  uint64_t remaining = 0;  // Content-Length bytes still due
  bool keep_alive = true;
  bool http10 = false;
  // For the log line, kept only while logging is on.
  std::string log_method;
  std::string log_uri;
  std::string log_remote;    // uwsgi: the client's address as the front end saw it
  std::string log_protocol;  // uwsgi: SERVER_PROTOCOL as the front end saw it
  size_t vars_count = 0;
  size_t vars_bytes = 0;
  // Under a master, from dispatch to its end: its place among the requests in progress
  // (Server::in_progress_, for the scoreboard).
  InProgressEntry progress;
};

// A connection that switched to WebSocket (websocket(id), native/server/websocket.cc):
// its frames' parser and where its closing handshake stands.
struct WebSocketState {
  explicit WebSocketState(uint64_t max_message) : parser(max_message) {}
  WsParser parser;
  bool paused = false;          // JavaScript holds too many messages: reading stops
  bool close_sent = false;      // our close frame is queued: no frame after it
  bool close_received = false;  // the peer's close frame came: nothing is parsed after it
  bool reported = false;        // onWsClose was called
  // What onWsClose says: the peer's close (1005: it gave no code), or the code we
  // closed with for its protocol error; 1006 while neither happened.
  uint16_t code = kWsAbnormal;
  std::string reason;
};

struct Connection {
  enum class State : uint8_t {
    kIdle,        // between requests; no byte of the next one yet
    kHead,        // part of a head has arrived
    kBody,        // the head is in; the body is arriving
    kDispatched,  // the application has the request; its response is due
    kLingering,   // the last response is out; reading and dropping until EOF
    kClosing,     // its poll is closing, its descriptor closed
    kWebSocket,   // switched to WebSocket: frames, not requests (c->ws)
  };
  // The socket is read and written by the server itself (recvfrom and sendto: sys.h), and
  // its readiness watched by a libuv poll: readable while reading is wanted, writable
  // while output the socket did not take waits (c->pending). A unix socket's
  // connections too. The poll is made when first needed, and no sooner than the loop is
  // about to poll (UpdatePoll, OnPrepare): a connection answered and closed in the loop
  // turn of its accept (a front end's connection per request) never has one.
  uv_poll_t poll;
  int fd = -1;
  bool poll_open = false;
  bool watch_queued = false;  // in Server::to_watch_: its poll is made before the loop polls
  int polled = 0;  // the events its poll watches (UV_READABLE | UV_WRITABLE)
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
  bool upgrade_offered = false;  // the request in progress offered an upgrade (kReqUpgrade)
  bool upgrading = false;  // upgrade(id) was called: handed to JavaScript once the output is out
  std::string inbuf;         // an unfinished head or body, copied aside
  std::string out;           // corked output
  std::string pending;       // output the socket did not take, written as it becomes writable
  size_t pending_off = 0;    // how much of pending is written
  size_t inflight = 0;       // bytes of pending not yet written
  uint64_t deadline = 0;     // uv_now() ms past which the state times out
  ssize_t unsent = -1;       // what the kernel held of the output when last looked at (-1: unknown)
  RequestState* req = nullptr;  // while a request is in progress
  std::unique_ptr<WebSocketState> ws;  // in kWebSocket
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

}  // namespace tsgi

#endif  // TSGI_NATIVE_SERVER_CONNECTION_H_
