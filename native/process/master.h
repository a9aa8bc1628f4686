// tsgi — what the master process needs from native code: sockets bound before any
// worker exists (and before privileges drop), and the scoreboard it shares with
// them. Exported as plain functions of the addon.
#ifndef TSGI_NATIVE_MASTER_H_
#define TSGI_NATIVE_MASTER_H_

#include <napi.h>

namespace tsgi {

void InitMaster(Napi::Env env, Napi::Object exports);

// The master's own mapping of the scoreboard (null in a worker).
class Scoreboard;
Scoreboard* MasterScoreboard();

}  // namespace tsgi

#endif  // TSGI_NATIVE_MASTER_H_
