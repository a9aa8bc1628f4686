// tsgi — the bytes of a JavaScript value that is a typed array, where they are: what
// send() takes as a body (send.cc) and wsSend() as a binary message (websocket.cc).
#ifndef TSGI_NATIVE_SERVER_TYPED_BYTES_H_
#define TSGI_NATIVE_SERVER_TYPED_BYTES_H_

#include <node_api.h>

#include <cstddef>

namespace tsgi {

// What a value is as a typed array: a Uint8Array (a Buffer), an Int8Array or a
// Uint8ClampedArray, whose bytes it gives where they are (kBytes); a typed array of wider
// elements, which both refuse (kOther); or none (kNone).
enum class Typed { kNone, kBytes, kOther };

inline Typed TypedBytes(napi_env env, napi_value v, const char** data, size_t* len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return Typed::kNone;
  napi_typedarray_type type;
  void* bytes;
  napi_value ab;
  size_t offset;
  napi_get_typedarray_info(env, v, &type, len, &bytes, &ab, &offset);
  if (type != napi_uint8_array && type != napi_uint8_clamped_array && type != napi_int8_array) {
    return Typed::kOther;
  }
  *data = static_cast<const char*>(bytes);
  return Typed::kBytes;
}

}  // namespace tsgi

#endif  // TSGI_NATIVE_SERVER_TYPED_BYTES_H_
