// tsgi — a listening socket, as the server accepts from it (native/server/listener.cc).
#ifndef TSGI_NATIVE_SERVER_LISTENER_H_
#define TSGI_NATIVE_SERVER_LISTENER_H_

#include <uv.h>

#include <cstdint>

#include "wire.h"

namespace tsgi {

class Server;

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

}  // namespace tsgi

#endif  // TSGI_NATIVE_SERVER_LISTENER_H_
