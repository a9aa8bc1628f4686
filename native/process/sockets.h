// tsgi — listening sockets made with plain POSIX calls (no libuv, no N-API), so that
// the caller decides their life: the master binds them before any worker exists, and
// a unix socket file stays on disk after close unless --vacuum removes it (libuv's
// uv_pipe_bind would unlink it on close).
#ifndef TSGI_NATIVE_SOCKETS_H_
#define TSGI_NATIVE_SOCKETS_H_

#include <string>

namespace tsgi {

struct BoundTcp {
  int fd = -1;
  std::string address;
  int port = 0;
  bool v6 = false;
};

// Binds and listens on host:port (a numeric IPv4 or IPv6 address). Returns 0, or
// -errno.
int BindTcpSocket(const std::string& host, int port, int backlog, BoundTcp* out);

// Binds and listens on a unix socket path; "@name" is a Linux abstract socket. Returns
// the fd, or -errno.
int BindUnixSocket(const std::string& path, int backlog);

}  // namespace tsgi

#endif  // TSGI_NATIVE_SOCKETS_H_
