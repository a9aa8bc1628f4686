// The crossing into JavaScript: a complete request becomes one onRequest(...) call
// (native/wire.h kFixedArgs), and the request state it needs is pooled.
#include <cstdio>
#include <cstring>

#include "server/server.h"
#include "server/sys.h"

namespace tsgi {

// Dispatches the head just parsed into http_head_ or uwsgi_req_.
void Server::DispatchHead(Connection* c, const char* body, size_t body_len) {
  if (c->req->uwsgi) {
    DispatchUwsgi(c, *uwsgi_req_, body, body_len);
  } else {
    Dispatch(c, *http_head_, body, body_len);
  }
}

namespace {

// napi_create_string_latin1 wants a pointer even for an empty string.
inline napi_value Latin1(napi_env env, const char* data, size_t len) {
  napi_value v;
  napi_create_string_latin1(env, len ? data : "", len, &v);
  return v;
}

// The length of the fixed CGI keys' names, for the log's "{N vars in B bytes}".
constexpr size_t kFixedKeyBytes =
    sizeof("QUERY_STRING") + sizeof("REQUEST_METHOD") + sizeof("CONTENT_TYPE") +
    sizeof("CONTENT_LENGTH") + sizeof("REQUEST_URI") + sizeof("PATH_INFO") +
    sizeof("SCRIPT_NAME") + sizeof("SERVER_PROTOCOL") + sizeof("REQUEST_SCHEME") +
    sizeof("REMOTE_ADDR") + sizeof("REMOTE_PORT") + sizeof("SERVER_PORT") +
    sizeof("SERVER_NAME") - 13;
constexpr size_t kFixedVars = 13;

// What only some requests need is made out of Dispatch's line (noinline; cold: placed
// apart from the hot code), so that the instructions a plain GET runs lie close together:
// a request's path through the addon, node and V8 is larger than the instruction cache,
// and each line it touches costs a miss (bench/README.md).

// path and query for an absolute-form target, or a path with "%": decoded here.
[[gnu::noinline, gnu::cold]] void DecodedPathArgs(napi_env env, StrView path, StrView query,
                                                  std::string* scratch, napi_value* argv) {
  scratch->clear();
  if (path.len == 0) scratch->push_back('/');  // "http://host" asks for the root
  else PercentDecode(path.data, path.len, scratch);
  argv[0] = Latin1(env, scratch->data(), scratch->size());
  argv[1] = Latin1(env, query.data, query.len);
}

// CONTENT_LENGTH of a request with a body, in decimal; returns its length.
[[gnu::noinline]] size_t LengthArg(napi_env env, uint64_t content_length, napi_value* arg) {
  char num[24];
  const int n = snprintf(num, sizeof num, "%llu", static_cast<unsigned long long>(content_length));
  *arg = Latin1(env, num, static_cast<size_t>(n));
  return static_cast<size_t>(n);
}

// The peer's address and port, given with its connection's first request.
[[gnu::noinline, gnu::cold]] void PeerArgs(napi_env env, const Connection* c, napi_value* argv) {
  argv[0] = Latin1(env, c->remote_addr, std::strlen(c->remote_addr));
  argv[1] = Latin1(env, c->remote_port, std::strlen(c->remote_port));
}

// The HTTP_* key of a field the keys table lacks.
[[gnu::noinline, gnu::cold]] napi_value NewKeyArg(napi_env env, StrView name, std::string* scratch) {
  HttpKey(name, scratch);
  return Latin1(env, scratch->data(), scratch->size());
}

}  // namespace

// The method argument of onRequest: its index in the methods table, or a string.
napi_value Server::MethodArg(StrView method) {
  napi_value v;
  for (size_t i = 0; i < methods_.size(); i++) {
    if (methods_[i].size() == method.len &&
        std::memcmp(methods_[i].data(), method.data, method.len) == 0) {
      napi_create_int32(env_, static_cast<int32_t>(i), &v);
      return v;
    }
  }
  return Latin1(env_, method.data, method.len);
}


// What every dispatch does first: a new request id, the clocks, the counters, and
// under a master the request joins those in progress (method and uri: its request
// line, for the harakiri line).
void Server::BeginDispatch(Connection* c, StrView method, StrView uri) {
  if (slot_ != nullptr) {
    slot_->requests.fetch_add(1, std::memory_order_relaxed);
    in_progress_.Begin(&c->req->progress, WallMillis(), method.data, method.len, uri.data,
                       uri.len);
  }
  c->state = Connection::State::kDispatched;
  serial_ = (serial_ + 1) & 0xFFFFFFFFu;
  c->id = static_cast<double>((static_cast<uint64_t>(serial_) << kSlotBits) | c->slot);
  if (TimesRequests()) c->started_ns = uv_hrtime();
  c->resp_status = 0;
  c->resp_header_count = 0;
  c->resp_head_bytes = 0;
  c->resp_body_bytes = 0;
  c->chunked_response = false;
  c->close_after_response = false;
  c->upgrade_offered = false;
  requests_++;
  total_requests_++;
}

// The body argument of onRequest (undefined, a Buffer, or a file descriptor), its
// flag and its length.
napi_value Server::BodyArg(Connection* c, const char* body, size_t body_len,
                           napi_value undefined, uint32_t* flags, uint64_t* length) {
  RequestState* rs = c->req;
  napi_value v = undefined;
  if (body != nullptr && body_len > 0) {
    void* dst;
    napi_create_buffer_copy(env_, body_len, body, &dst, &v);
    *length = body_len;
  } else if (rs->sink.in_file()) {
    *flags |= kReqBodyFile;
    napi_create_int32(env_, rs->sink.fd(), &v);
    *length = rs->sink.size();
  } else if (rs->sink.size() > 0) {
    void* dst;
    napi_create_buffer_copy(env_, rs->sink.memory().size(), rs->sink.memory().data(), &dst,
                            &v);
    *length = rs->sink.size();
  } else {
    *length = 0;
  }
  return v;
}

void Server::Dispatch(Connection* c, const HttpRequestHead& head, const char* body,
                      size_t body_len) {
  RequestState* rs = c->req;
  BeginDispatch(c, head.method, head.target);
  napi_env env = env_;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  argv_.resize(kFixedArgs + 2 * head.num_headers);
  napi_value* argv = argv_.data();

  uint32_t flags = c->listener_index << kReqListenerShift;
  if (rs->keep_alive) flags |= kReqKeepAlive;
  if (rs->http10) flags |= kReqHttp10;
  c->upgrade_offered = head.upgrade;
  if (head.upgrade) flags |= kReqUpgrade;
  napi_create_double(env, c->id, &argv[0]);
  uint64_t content_length = 0;
  const bool has_body = head.framing != BodyFraming::kNone;
  argv[2] = BodyArg(c, body, body_len, undefined, &flags, &content_length);

  argv[3] = MethodArg(head.method);
  argv[4] = Latin1(env, head.target.data, head.target.len);

  // path and query: JavaScript slices them from the URI when it can.
  if (head.target.data[0] == '/' && std::memchr(head.path.data, '%', head.path.len) == nullptr) {
    argv[5] = undefined;
    argv[6] = undefined;
  } else {
    DecodedPathArgs(env, head.path, head.query, &scratch_, &argv[5]);
  }

  StrView ctype = ContentType(head);
  argv[7] = ctype.data != nullptr ? Latin1(env, ctype.data, ctype.len) : undefined;
  size_t num_len = 0;
  if (has_body) {
    num_len = LengthArg(env, content_length, &argv[8]);
  } else {
    argv[8] = undefined;
  }
  if (!c->announced) {
    c->announced = true;
    flags |= kReqNewConnection;
    PeerArgs(env, c, &argv[9]);
  } else {
    argv[9] = undefined;
    argv[10] = undefined;
  }
  napi_create_uint32(env, flags, &argv[1]);

  size_t argc = kFixedArgs;
  size_t header_bytes = 0;
  size_t header_vars = 0;
  ForEachHeaderVar(head, keys_, &scratch_, [&](int index, StrView name, StrView value) {
    if (index >= 0) {
      napi_create_int32(env, index, &argv[argc]);
    } else {
      argv[argc] = NewKeyArg(env, name, &key_scratch_);
    }
    argv[argc + 1] = Latin1(env, value.data, value.len);
    argc += 2;
    header_vars++;
    header_bytes += 4 + 5 + name.len + value.len;
  });

  if (cfg_.logging) {
    NoteForLog(c, head, ctype.len + num_len, kFixedVars + header_vars, header_bytes);
  }
  CallJs(on_request_, argc, argv);
}

// The request log's part of an HTTP request: its request line, and the size of the
// environ (uWSGI's "{N vars in B bytes}"); other_bytes: CONTENT_TYPE's and
// CONTENT_LENGTH's values.
void Server::NoteForLog(Connection* c, const HttpRequestHead& head, size_t other_bytes,
                        size_t vars, size_t header_bytes) {
  RequestState* rs = c->req;
  rs->log_method.assign(head.method.data, head.method.len);
  rs->log_uri.assign(head.target.data, head.target.len);
  rs->vars_count = vars;
  rs->vars_bytes = 4 * kFixedVars + kFixedKeyBytes + head.method.len + head.target.len * 2 +
                   other_bytes + 8 + 4 + std::strlen(c->remote_addr) +
                   std::strlen(c->remote_port) + 5 + server_name_.size() + header_bytes;
}

// A uwsgi request: the front end sent the CGI variables itself. The ones onRequest
// takes by position go by position; every other one follows as a pair, so that what
// nginx says (SERVER_NAME, SERVER_PORT, SERVER_PROTOCOL, HTTPS...) is what the
// application sees.
void Server::DispatchUwsgi(Connection* c, const UwsgiRequest& u, const char* body,
                           size_t body_len) {
  RequestState* rs = c->req;
  BeginDispatch(c, u.vars[u.request_method].value,
                u.request_uri >= 0 ? u.vars[u.request_uri].value : StrView{"", 0});
  napi_env env = env_;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  std::vector<napi_value>& argv = argv_;
  argv.resize(kFixedArgs + 2 * u.num_vars);
  uint32_t flags = (c->listener_index << kReqListenerShift) | kReqHttp10 | kReqUwsgi |
                   kReqNewConnection;
  napi_create_double(env, c->id, &argv[0]);
  uint64_t content_length = 0;
  argv[2] = BodyArg(c, body, body_len, undefined, &flags, &content_length);
  napi_create_uint32(env, flags, &argv[1]);
  auto var = [&](int i) -> napi_value {
    if (i < 0) return undefined;
    const StrView v = u.vars[i].value;
    return Latin1(env, v.data, v.len);
  };
  argv[3] = MethodArg(u.vars[u.request_method].value);  // the parser saw REQUEST_METHOD
  argv[4] = u.request_uri >= 0 ? var(u.request_uri) : Latin1(env, "", 0);
  if (u.path_info >= 0) {
    // With nginx's "uwsgi_modifier1 30" or --manage-script-name, the SCRIPT_NAME the
    // front end sends is taken off the front of PATH_INFO, as uWSGI does: the
    // application mounted at /app sees /app/x as SCRIPT_NAME /app, PATH_INFO /x.
    StrView path = u.vars[u.path_info].value;
    if ((u.modifier1 == 30 || cfg_.manage_script_name) && u.script_name >= 0) {
      path = StripScriptName(path, u.vars[u.script_name].value);
    }
    argv[5] = Latin1(env, path.data, path.len);
  } else {
    argv[5] = Latin1(env, "", 0);
  }
  argv[6] = u.query_string >= 0 ? var(u.query_string) : Latin1(env, "", 0);
  int content_type = -1, remote_addr = -1, remote_port = -1;
  for (size_t i = 0; i < u.num_vars; i++) {
    const StrView k = u.vars[i].key;
    if (k.len == 12 && std::memcmp(k.data, "CONTENT_TYPE", 12) == 0) content_type = static_cast<int>(i);
    else if (k.len == 11 && std::memcmp(k.data, "REMOTE_ADDR", 11) == 0) remote_addr = static_cast<int>(i);
    else if (k.len == 11 && std::memcmp(k.data, "REMOTE_PORT", 11) == 0) remote_port = static_cast<int>(i);
  }
  argv[7] = var(content_type);
  if (content_length > 0) {
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", static_cast<unsigned long long>(content_length));
    argv[8] = Latin1(env, num, static_cast<size_t>(n));
  } else {
    argv[8] = u.content_length_var >= 0 ? var(u.content_length_var) : undefined;
  }
  argv[9] = remote_addr >= 0 ? var(remote_addr) : Latin1(env, c->remote_addr, std::strlen(c->remote_addr));
  argv[10] = remote_port >= 0 ? var(remote_port) : Latin1(env, c->remote_port, std::strlen(c->remote_port));
  size_t argc = kFixedArgs;
  for (size_t i = 0; i < u.num_vars; i++) {
    const int at = static_cast<int>(i);
    if (at == u.request_method || at == u.request_uri || at == u.path_info ||
        at == u.query_string || at == u.content_length_var || at == content_type ||
        at == remote_addr || at == remote_port) {
      continue;
    }
    const StrView k = u.vars[i].key;
    // nginx passes these headers on too; they are CONTENT_TYPE and CONTENT_LENGTH
    // already, and the body comes de-chunked: the same environ as over HTTP.
    if ((k.len == 17 && std::memcmp(k.data, "HTTP_CONTENT_TYPE", 17) == 0) ||
        (k.len == 19 && std::memcmp(k.data, "HTTP_CONTENT_LENGTH", 19) == 0) ||
        (k.len == 22 && std::memcmp(k.data, "HTTP_TRANSFER_ENCODING", 22) == 0)) {
      continue;
    }
    const int index = var_keys_.Find(k.data, k.len);
    if (index >= 0) napi_create_int32(env, index, &argv[argc]);
    else argv[argc] = Latin1(env, k.data, k.len);
    argv[argc + 1] = Latin1(env, u.vars[i].value.data, u.vars[i].value.len);
    argc += 2;
  }
  if (cfg_.logging) {
    auto text = [&](int i, std::string* out) {
      if (i >= 0) out->assign(u.vars[i].value.data, u.vars[i].value.len);
      else out->clear();
    };
    text(u.request_method, &rs->log_method);
    text(u.request_uri, &rs->log_uri);
    text(remote_addr, &rs->log_remote);
    text(u.server_protocol, &rs->log_protocol);
    rs->vars_count = u.num_vars;
    size_t bytes = 0;
    for (size_t i = 0; i < u.num_vars; i++) bytes += 4 + u.vars[i].key.len + u.vars[i].value.len;
    rs->vars_bytes = bytes;
  }
  CallJs(on_request_, argc, argv.data());
}

void Server::CallJs(napi_ref fn_ref, size_t argc, napi_value* argv) {
  if (fn_ref == nullptr) return;
  napi_value fn, result;
  napi_get_reference_value(env_, fn_ref, &fn);
  // napi_make_callback wants an object for the receiver: the function itself, which lib's
  // callbacks (arrows and bound functions) ignore. The global would cost a call more.
  const napi_value recv = fn;
  napi_status st;
  if (batch_depth_ > 0 && loop_batch_ && batch_calls_++ > 0) {
    // The batch's second call and those after it share one callback scope, closed as the
    // batch ends (BatchScope). The first goes alone: opening a scope through N-API costs
    // more than napi_make_callback's, and most batches (a read of one request) make one call.
    if (callback_scope_ == nullptr) napi_open_callback_scope(env_, recv, async_context_, &callback_scope_);
    st = napi_call_function(env_, recv, fn, argc, argv, &result);
  } else {
    st = napi_make_callback(env_, async_context_, recv, fn, argc, argv, &result);
  }
  if (st == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env_, &err);
    napi_fatal_exception(env_, err);
  }
}

void Server::CloseCallbackScope() {
  // Closing runs the batch's process.nextTick callbacks and microtasks (an exception
  // there is Node's uncaught exception, as after any callback). What they call may enter
  // JavaScript again through CallJs (an abort) and so open a scope of its own: closed in
  // turn.
  while (callback_scope_ != nullptr) {
    napi_callback_scope scope = callback_scope_;
    callback_scope_ = nullptr;
    napi_close_callback_scope(env_, scope);
  }
}

RequestState* Server::AcquireRequest() {
  if (request_pool_.empty()) return new RequestState();
  RequestState* rs = request_pool_.back().release();
  request_pool_.pop_back();
  return rs;
}

void Server::ReleaseRequest(Connection* c) {
  RequestState* rs = c->req;
  if (rs == nullptr) return;
  c->req = nullptr;
  in_progress_.End(&rs->progress);  // answered, refused, or its connection gone
  rs->sink.Reset();
  if (rs->head_bytes.capacity() > 16384) std::string().swap(rs->head_bytes);
  rs->head_bytes.clear();
  if (request_pool_.size() < 256) {
    request_pool_.emplace_back(rs);
  } else {
    delete rs;
  }
}

Connection* Server::Lookup(double id) {
  if (!(id >= 0)) return nullptr;
  uint64_t n = static_cast<uint64_t>(id);
  uint64_t slot = n & kSlotMask;
  if (slot >= slots_.size()) return nullptr;
  Connection* c = slots_[slot];
  if (c == nullptr || c->id != id || c->state != Connection::State::kDispatched) return nullptr;
  return c;
}

// Appends a body value (a string as UTF-8, a Uint8Array, an array of those, or
// undefined) to *out. Returns the bytes appended; sets *ok to false for anything else.
}  // namespace tsgi
