// tsgi — the server's settings: what new Server(settings) is given by lib/serve.ts
// nativeBackend, read once and type-checked. Every key is required: a default is
// written in lib/config/options.ts alone, never here.
#ifndef TSGI_NATIVE_SERVER_SETTINGS_H_
#define TSGI_NATIVE_SERVER_SETTINGS_H_

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/request_log.h"

namespace tsgi {

// The settings the server keeps (the callbacks and tables are kept by the Server).
struct ServerConfig {
  size_t buffer_size = 0;     // bufferSize: the largest request head
  size_t post_buffering = 0;  // postBuffering: the largest body kept in memory
  uint64_t limit_post = 0;    // limitPost: the largest body accepted; 0: no limit
  uint64_t timeout_ms = 0;    // timeoutMs: idle, head, body-progress and write-progress timeout
  std::string tmp_dir;        // tmpDir: where a body over postBuffering goes
  bool logging = false;  // the request's log values are kept: a line may be written
  RequestLogFilter log_filter;      // logging, log4xx, log5xx, logSlow, logBig
  bool log_json = false;            // logJson: connection lines as JSON objects
  bool manage_script_name = false;  // manageScriptName: SCRIPT_NAME off PATH_INFO (uwsgi)
  bool proxy_protocol = false;      // proxyProtocol: HTTP connections start with one
  int log_fd = -1;                  // logFd
  int core = 0;                     // core: the worker's core, for the log line
};

// Reads the settings object. A key missing, or of another type, throws a TypeError
// (code TSGI_ERR_NATIVE_SETTINGS) that names it; after that ok() is false, nothing
// more is read, and every getter returns an empty value.
class SettingsReader {
 public:
  SettingsReader(Napi::Env env, Napi::Value settings);
  bool ok() const { return ok_; }
  double Number(const char* key);
  bool Boolean(const char* key);
  std::string String(const char* key);
  Napi::Function Function(const char* key);
  // A function, or null (the key stands for an optional callback).
  Napi::Value FunctionOrNull(const char* key);
  // An array of strings.
  std::vector<std::string> Strings(const char* key);

 private:
  // The value of key when it has the type wanted (expected: its name, for the error).
  Napi::Value Get(const char* key, napi_valuetype type, const char* expected);
  void Fail(const std::string& message);
  Napi::Env env_;
  Napi::Object settings_;
  bool ok_ = true;
};

// Reads what ServerConfig holds. Returns false when a TypeError was thrown.
bool ReadServerConfig(SettingsReader* r, ServerConfig* cfg);

}  // namespace tsgi

#endif  // TSGI_NATIVE_SERVER_SETTINGS_H_
