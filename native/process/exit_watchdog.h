// tsgi — a bound on a process's exit: a thread that ends the process with _exit() should
// process.exit() not have ended it in time (lib/process/end-process.ts arms it).
#ifndef TSGI_NATIVE_EXIT_WATCHDOG_H_
#define TSGI_NATIVE_EXIT_WATCHDOG_H_

#include <napi.h>

namespace tsgi {

void InitExitWatchdog(Napi::Env env, Napi::Object exports);

}  // namespace tsgi

#endif  // TSGI_NATIVE_EXIT_WATCHDOG_H_
