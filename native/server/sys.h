// tsgi — small system helpers the server's files share: errno in words, the wall clock,
// a socket's reads and writes.
#ifndef TSGI_NATIVE_SERVER_SYS_H_
#define TSGI_NATIVE_SERVER_SYS_H_

#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <string>

namespace tsgi {

// "No such file or directory (ENOENT)": uWSGI's wording of an errno, and its name,
// which is what an operator searches for.
std::string DescribeErrno(int err);

// The wall clock, in milliseconds since the epoch.
uint64_t WallMillis();

// A connection's reads and writes are recvfrom() and sendto() (sendmsg() for two buffers),
// made through syscall() (sys.cc says why), not the read() and write()
// libuv's streams make: a socket's own calls skip the file layer (vfs_read, fdget_pos,
// the file permission hook), which took 0.4-0.5 us of the kernel's time a request under
// the paced load (bench/README.md, "recv and send").
// Bytes read (> 0), 0 at EOF, or -errno (-EAGAIN: nothing to read now).
ssize_t RecvSome(int fd, char* buf, size_t len);
// Bytes written (>= 0: 0 when the socket takes nothing now), or -errno. Never raises
// SIGPIPE (MSG_NOSIGNAL).
ssize_t SendSome(int fd, const iovec* iov, int count);
// What the kernel still holds of the socket's output (SIOCOUTQ): over TCP the bytes the
// peer has not acknowledged, on a unix socket the buffers the peer has not read. It
// shrinks as the client reads, while the socket stays full for the server (TCP wakes a
// writer only once a third of its send buffer is free). -1 if the kernel does not say.
ssize_t UnsentBytes(int fd);

}  // namespace tsgi

#endif  // TSGI_NATIVE_SERVER_SYS_H_
