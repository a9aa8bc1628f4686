#include "server/settings.h"

namespace tsgi {

namespace {

const char* TypeName(napi_valuetype t) {
  switch (t) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_number: return "a number";
    case napi_string: return "a string";
    case napi_symbol: return "a symbol";
    case napi_object: return "an object";
    case napi_function: return "a function";
    case napi_external: return "an external";
    case napi_bigint: return "a bigint";
  }
  return "something else";
}

}  // namespace

SettingsReader::SettingsReader(Napi::Env env, Napi::Value settings) : env_(env) {
  if (!settings.IsObject()) {
    Fail(std::string("Expected an object of settings for new Server() but received ") +
         TypeName(settings.Type()));
    return;
  }
  settings_ = settings.As<Napi::Object>();
}

void SettingsReader::Fail(const std::string& message) {
  ok_ = false;
  Napi::TypeError e = Napi::TypeError::New(env_, message);
  e.Set("code", Napi::String::New(env_, "TSGI_ERR_NATIVE_SETTINGS"));
  e.ThrowAsJavaScriptException();
}

Napi::Value SettingsReader::Get(const char* key, napi_valuetype type, const char* expected) {
  if (!ok_) return Napi::Value();
  Napi::Value v = settings_.Get(key);
  if (v.IsEmpty()) {  // a getter threw: its exception is pending
    ok_ = false;
    return Napi::Value();
  }
  if (v.Type() != type) {
    Fail(std::string("Expected ") + expected + " for the native Server's setting " + key +
         " but received " + TypeName(v.Type()));
    return Napi::Value();
  }
  return v;
}

double SettingsReader::Number(const char* key) {
  Napi::Value v = Get(key, napi_number, "a number");
  return ok_ ? v.As<Napi::Number>().DoubleValue() : 0;
}

bool SettingsReader::Boolean(const char* key) {
  Napi::Value v = Get(key, napi_boolean, "a boolean");
  return ok_ && v.As<Napi::Boolean>().Value();
}

std::string SettingsReader::String(const char* key) {
  Napi::Value v = Get(key, napi_string, "a string");
  return ok_ ? v.As<Napi::String>().Utf8Value() : std::string();
}

Napi::Function SettingsReader::Function(const char* key) {
  Napi::Value v = Get(key, napi_function, "a function");
  return ok_ ? v.As<Napi::Function>() : Napi::Function();
}

Napi::Value SettingsReader::FunctionOrNull(const char* key) {
  if (!ok_) return Napi::Value();
  Napi::Value v = settings_.Get(key);
  if (v.IsEmpty()) {
    ok_ = false;
    return Napi::Value();
  }
  if (!v.IsFunction() && !v.IsNull()) {
    Fail(std::string("Expected a function or null for the native Server's setting ") + key +
         " but received " + TypeName(v.Type()));
    return Napi::Value();
  }
  return v;
}

std::vector<std::string> SettingsReader::Strings(const char* key) {
  std::vector<std::string> out;
  Napi::Value v = Get(key, napi_object, "an array of strings");
  if (!ok_) return out;
  if (!v.IsArray()) {
    Fail(std::string("Expected an array of strings for the native Server's setting ") + key +
         " but received an object");
    return out;
  }
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (!e.IsString()) {
      Fail(std::string("Expected an array of strings for the native Server's setting ") + key +
           " but received " + TypeName(e.Type()) + " at index " + std::to_string(i));
      out.clear();
      return out;
    }
    out.push_back(e.As<Napi::String>().Utf8Value());
  }
  return out;
}

bool ReadServerConfig(SettingsReader* r, ServerConfig* cfg) {
  cfg->buffer_size = static_cast<size_t>(r->Number("bufferSize"));
  cfg->post_buffering = static_cast<size_t>(r->Number("postBuffering"));
  cfg->limit_post = static_cast<uint64_t>(r->Number("limitPost"));
  cfg->timeout_ms = static_cast<uint64_t>(r->Number("timeoutMs"));
  cfg->tmp_dir = r->String("tmpDir");
  cfg->log_filter.all = r->Boolean("logging");
  cfg->log_filter.status_4xx = r->Boolean("log4xx");
  cfg->log_filter.status_5xx = r->Boolean("log5xx");
  cfg->log_filter.slow_ms = static_cast<uint64_t>(r->Number("logSlow"));
  cfg->log_filter.big_bytes = static_cast<uint64_t>(r->Number("logBig"));
  cfg->logging = cfg->log_filter.all || cfg->log_filter.status_4xx ||
                 cfg->log_filter.status_5xx || cfg->log_filter.slow_ms > 0 ||
                 cfg->log_filter.big_bytes > 0;
  cfg->log_json = r->Boolean("logJson");
  cfg->manage_script_name = r->Boolean("manageScriptName");
  cfg->proxy_protocol = r->Boolean("proxyProtocol");
  cfg->log_fd = static_cast<int>(r->Number("logFd"));
  cfg->core = static_cast<int>(r->Number("core"));
  return r->ok();
}

}  // namespace tsgi
