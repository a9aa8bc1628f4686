#include "process/exit_watchdog.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

namespace tsgi {

namespace {

struct Watch {
  unsigned ms;
  int code;
  std::string line;
};

void* Watchdog(void* arg) {
  const Watch* w = static_cast<const Watch*>(arg);
  timespec left{static_cast<time_t>(w->ms / 1000), static_cast<long>(w->ms % 1000) * 1000000L};
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
  // A line, unless stderr cannot take it now (a full pipe, a terminal stopped by ^S):
  // the process is ended either way.
  pollfd out{2, POLLOUT, 0};
  const char* p = w->line.data();
  size_t n = poll(&out, 1, 0) == 1 && (out.revents & POLLOUT) != 0 ? w->line.size() : 0;
  while (n > 0) {
    const ssize_t r = write(2, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    p += r;
    n -= static_cast<size_t>(r);
  }
  _exit(w->code);
}

// exitWatchdog(ms, code, line) -> whether it is armed: ms from now, a thread of its own
// writes line to stderr and ends the process with code, by _exit(), whatever the main
// thread is doing. Exiting runs the 'exit' listeners and then the process's exit
// handlers on the main thread, and either can block for good: an application's listener,
// or Node's own exit-time deadlock (nodejs/node#54918). A process that does exit in time
// takes the sleeping thread with it. Armed once per process, from the first 'exit'
// listener (lib/process/end-process.ts); its Watch is never freed, as the thread may
// read it until the very end. The thread takes no signal: they stay the main thread's.
Napi::Value ExitWatchdog(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* w = new Watch{info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Int32Value(),
                      info[2].As<Napi::String>().Utf8Value()};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  sigset_t all;
  sigset_t before;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &before);  // the thread inherits the mask
  pthread_t thread;
  const int r = pthread_create(&thread, &attr, Watchdog, w);
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  pthread_attr_destroy(&attr);
  if (r != 0) delete w;
  return Napi::Boolean::New(env, r == 0);
}

}  // namespace

void InitExitWatchdog(Napi::Env env, Napi::Object exports) {
  exports.Set("exitWatchdog", Napi::Function::New(env, ExitWatchdog));
}

}  // namespace tsgi
