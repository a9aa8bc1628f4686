// tsgi — the wire contract between the addon and lib/ (TypeScript): every number both
// sides must agree on. lib/addon/wire.ts mirrors each constant here under its UPPER_SNAKE
// name (kSendChunked: SEND_CHUNKED), and test/unit/wire.test.mjs reads this file and
// fails when a value differs or one side lacks it.
//
// Change a value, an argument's place or meaning, or a settings key, and raise
// kWireVersion (and WIRE_VERSION beside it): lib/ refuses, when it loads the addon, one
// built for another version (lib/addon/binding.ts checkWireVersion), instead of
// misreading its requests.
#ifndef TSGI_NATIVE_WIRE_H_
#define TSGI_NATIVE_WIRE_H_

#include <cstddef>
#include <cstdint>

namespace tsgi {

// The contract's version, exported as the addon's abiVersion. 2: the addon requires
// every settings key (native/server/settings.cc), and this file was made. 3: upgrades
// (kReqUpgrade, upgrade(id), the onUpgrade setting). 4: WebSockets kept by the server
// (websocket(), wsSend(), wsClose(), wsPause(), wsTerminate(), the onWsMessages and
// onWsClose settings). 5: exitWatchdog() (native/process/exit_watchdog.cc).
constexpr uint32_t kWireVersion = 5;

// Flags of send(id, head, body, flags).
enum SendFlags : uint32_t {
  kSendChunked = 1,    // frame this call's body in chunked coding; with a head, say so
  kSendEnd = 2,        // the response is complete
  kSendClose = 4,      // close the connection once this response is out
  kSendAddLength = 8,  // with a head: add Content-Length, the length of this call's body
  kSendAbort = 16,     // cut the connection: an error after the head went out
};

// What send() returns.
enum SendResult : int32_t {
  kSendGone = -1,         // the connection is gone (or the request was aborted)
  kSendGoOn = 0,          // go on
  kSendBackpressure = 1,  // over the high-water mark: wait for onDrain(id)
};

// Flags passed to onRequest; bits kReqListenerShift and up hold the index of the
// listener (in the order of listen() calls) that accepted the connection.
enum RequestFlags : uint32_t {
  kReqKeepAlive = 1,      // the client allows another request on this connection
  kReqHttp10 = 2,         // the request is HTTP/1.0 (no chunked response possible)
  kReqBodyFile = 4,       // body is a file descriptor (an unlinked temporary file)
  kReqNewConnection = 8,  // the first request of its connection: the peer is given
  kReqUwsgi = 16,         // came over the uwsgi protocol: the pairs carry the front end's CGI
  kReqUpgrade = 32,       // HTTP/1.1 offering to switch protocols (Upgrade, Connection: upgrade):
                          // the application may take the connection with upgrade(id)
};
constexpr uint32_t kReqListenerShift = 8;

// What a listener speaks: the last argument of listen(), listenUnix() and listenFd().
enum Protocol : uint8_t { kProtocolHttp = 0, kProtocolUwsgi = 1 };

// A request id is serial * 2^kSlotBits + the slot of its connection: the low bits
// name the connection (lib keeps its peer by slot).
constexpr uint64_t kSlotBits = 20;

// The arguments of onRequest, in order:
//   id, flags, body, method, uri, path, query, contentType, contentLength,
//   remoteAddr, remotePort, key1, value1, key2, value2, ...
// body: undefined, a Buffer, or (kReqBodyFile) the fd of an unlinked temporary file.
// method: an index into the "methods" setting (lib's METHODS), or a string.
// path, query: undefined when JavaScript can take them from uri itself (an
//   origin-form target without "%"); else the percent-decoded path and the query.
// contentType, contentLength: strings, or undefined when the request has none.
// remoteAddr, remotePort: strings on a connection's first request, else undefined.
// key: an index into the "keys" setting (lib's KEYS), or a string.
// Every string is the request's bytes read as latin-1. The two tables are lib's alone:
// the addon receives them as settings and names their entries by index.
constexpr size_t kFixedArgs = 11;

// upgrade(id) -> true when the hand-off of request id's connection has begun (false: the
// request is gone, or it offered no upgrade). The server reads no more HTTP from it;
// once its output is out it stops watching it, duplicates its descriptor, closes its
// own (no shutdown, nothing written), ends the request (logged with status 101), and
// calls onUpgrade(id, fd, head): fd, the duplicate, now the application's; head, a
// Buffer of the bytes read past the request (the new protocol's first bytes). A
// connection lost before that gets onAbort(id) instead.

// websocket(id, head, maxMessage) -> true when request id's connection switched to
// WebSocket (false: the request is gone, it offered no upgrade, or its response began).
// head: the 101 response's status line and header lines, each ending in CRLF, latin-1
// (the blank line is added); it goes out corked, the request ends (logged with 101, no
// longer in progress) and the connection stays the server's, in kWebSocket: from then on
// id names the WebSocket. maxMessage: the longest message taken, in bytes (a longer one
// closes with 1009). Its frames are parsed natively (protocol/websocket_parser.h);
// pings are answered, and the closing handshake made, by the server.
//   onWsMessages(id1, m1, id2, m2, ...): whole messages, each after the id of its
//     WebSocket, in order: a string for a text message, a Buffer for a binary one. Every
//     message the loop turn read, from every connection, in one call (512 at most), in
//     the check phase.
//   onWsClose(id, code, reason): once, when the connection closes: the peer's close code
//     (1005: its close had none) and reason, or the code the server closed with for the
//     peer's protocol error (1002, 1007, 1009) and why, or 1006 (no close frame).
//   wsSend(id, data, kind) -> a SendResult: data, a string (a text message) or a
//     Uint8Array (binary), framed into the corked output; kind kWsSendPing: a ping
//     (125 bytes at most) instead. kSendBackpressure: onDrain(id) follows once the output
//     is low; kSendGone: closed, or our close went out.
//   wsClose(id, code, reason): our close frame (code kWsNoStatus: empty); the peer's
//     answer is awaited for http-timeout, then the connection ends.
//   wsPause(id, paused): reading stops (true) or goes on: JavaScript's queue is full.
//   wsTerminate(id): the connection is cut now (onWsClose says 1006 unless a close came).
enum WsSendKind : uint32_t {
  kWsSendMessage = 0,
  kWsSendPing = 1,
};

// onLog(id, status, bodyBytes, headerCount, headerBytes, micros, requests, varsCount,
// varsBytes) -> the log line (latin-1): the "onLog" setting, when it is a function.

// The scoreboard's per-core counts that lib/process/metrics.ts labels: requests by duration,
// one bucket per bound (microseconds; lib's DURATION_BOUNDS are seconds) and one over
// the last; refusals by status, in this order, then any other status, then a refusal
// with no answer (a malformed uwsgi packet).
constexpr uint64_t kDurationBoundsUs[] = {5000,   10000,   25000,   50000,   100000,  250000,
                                          500000, 1000000, 2500000, 5000000, 10000000};
constexpr int kRefusalStatuses[] = {400, 408, 413, 431, 500, 501, 505};

}  // namespace tsgi

#endif  // TSGI_NATIVE_WIRE_H_
