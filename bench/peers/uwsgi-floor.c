// The floor of the nginx scenario's uwsgi path: the least a uwsgi server can do per
// request. One process, one epoll loop, a unix socket; for each connection it reads the
// uwsgi packet (4-byte header + vars; bodies are not expected: the scenario sends GET),
// writes one fixed HTTP response and closes. It parses nothing else, calls no
// application and logs nothing, so what nginx -> this costs is what nginx's uwsgi module
// and the kernel cost: no uwsgi server behind the same nginx can go faster.
//
// Compiled by bench/run.mjs (cc -O2) into its temporary directory when the nginx
// scenario runs. Usage: uwsgi-floor SOCKET_PATH. Prints the same "socket 0 bound to
// UNIX address" line tsgi prints once it listens; exits on SIGTERM/SIGINT.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char kResponse[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, World!\n";

enum { kMaxFd = 65536, kBuf = 65536 };

// Per connection fd: the packet's size once its header is in (0 before), the bytes read,
// and the header's first 4 bytes.
static size_t want[kMaxFd];
static size_t got[kMaxFd];
static unsigned char head[kMaxFd][4];
static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

// Reads what is there. Returns 1 when the connection is done (answered or dead), 0 when
// it must wait for more.
static int serve(int fd, char* buf) {
  for (;;) {
    ssize_t n = read(fd, buf, kBuf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    if (n <= 0) return 1;
    for (ssize_t i = 0; i < n && got[fd] + (size_t)i < 4; i++) head[fd][got[fd] + (size_t)i] = (unsigned char)buf[i];
    got[fd] += (size_t)n;
    if (want[fd] == 0 && got[fd] >= 4) want[fd] = 4 + (head[fd][1] | ((size_t)head[fd][2] << 8));
    if (want[fd] != 0 && got[fd] >= want[fd]) {
      ssize_t w = write(fd, kResponse, sizeof kResponse - 1);
      (void)w;
      return 1;
    }
  }
}

static void done(int fd) {
  want[fd] = got[fd] = 0;
  close(fd);
}

int main(int argc, char** argv) {
  if (argc != 2 || strlen(argv[1]) >= sizeof(((struct sockaddr_un*)0)->sun_path)) {
    fprintf(stderr, "usage: uwsgi-floor SOCKET_PATH\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, argv[1]);
  unlink(argv[1]);
  if (ls < 0 || bind(ls, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(ls, 1024) != 0 ||
      chmod(argv[1], 0666) != 0) {
    fprintf(stderr, "uwsgi-floor: %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data = {.fd = ls}};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  printf("uwsgi-floor: socket 0 bound to UNIX address %s (uwsgi)\n", argv[1]);
  fflush(stdout);

  static char buf[kBuf];
  struct epoll_event events[256];
  while (!stop) {
    int n = epoll_wait(ep, events, 256, 500);
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd != ls) {
        if (serve(fd, buf)) done(fd);  // close() takes it out of epoll
        continue;
      }
      for (;;) {
        int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) break;
        if (c >= kMaxFd) {
          close(c);
          continue;
        }
        // nginx writes the packet right after connecting: usually it is there already,
        // and the connection never enters epoll.
        if (serve(c, buf)) {
          done(c);
          continue;
        }
        struct epoll_event cev = {.events = EPOLLIN, .data = {.fd = c}};
        epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
      }
    }
  }
  close(ls);
  unlink(argv[1]);
  return 0;
}
