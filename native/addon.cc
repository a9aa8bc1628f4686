// tsgi — the addon's entry point: exports the native Server class.
#include <napi.h>

#include "process/master.h"
#include "server/server.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Server", tsgi::Server::Init(env));
  tsgi::InitMaster(env, exports);
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

}  // namespace

NODE_API_MODULE(tsgi, Init)
