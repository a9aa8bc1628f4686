// tsgi — the addon's entry point: exports the native Server class, the master's
// functions (native/process/master.cc), the exit watchdog (native/process/exit_watchdog.cc)
// and the wire contract's version (native/wire.h).
#include <napi.h>

#include "process/exit_watchdog.h"
#include "process/master.h"
#include "server/server.h"
#include "wire.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Server", tsgi::Server::Init(env));
  tsgi::InitMaster(env, exports);
  tsgi::InitExitWatchdog(env, exports);
  // The wire contract's version: lib/addon/binding.ts checkWireVersion compares it.
  exports.Set("abiVersion", Napi::Number::New(env, tsgi::kWireVersion));
  return exports;
}

}  // namespace

NODE_API_MODULE(tsgi, Init)
