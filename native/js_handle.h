// What native/udp_batch.c and native/tcp_accept.c share: a JavaScript handle object wrapping a
// native struct, with the callback it calls from a libuv poll and the async context that makes
// those calls look to node like any other I/O callback (async hooks, domains, uncaught errors).
#ifndef MERIDIAN_JS_HANDLE_H
#define MERIDIAN_JS_HANDLE_H

#define NAPI_VERSION 8
#include <node_api.h>

typedef struct {
  napi_env env;
  napi_ref self;     // the handle object (kept alive while the native side may call back)
  napi_ref callback; // what the native side calls
  napi_async_context async;
} js_handle_t;

// Makes the handle object for `native`, with `callback`; `resource` names it for async hooks.
static inline napi_value js_handle_open(napi_env env, js_handle_t *h, void *native, napi_value callback,
                                        const char *resource) {
  napi_value handle, name;
  h->env = env;
  napi_create_reference(env, callback, 1, &h->callback);
  napi_create_object(env, &handle);
  napi_wrap(env, handle, native, NULL, NULL, NULL);
  napi_create_reference(env, handle, 1, &h->self);
  napi_create_string_utf8(env, resource, NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, handle, name, &h->async);
  return handle;
}

// Calls the callback with `argv` (int32 values). Returns -1 when JavaScript could not be called.
static inline int js_handle_call(js_handle_t *h, size_t argc, const int32_t *values) {
  napi_env env = h->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return -1;
  napi_value fn, recv, argv[4], result;
  int ok = argc <= 4 && napi_get_reference_value(env, h->callback, &fn) == napi_ok &&
           napi_get_reference_value(env, h->self, &recv) == napi_ok;
  for (size_t i = 0; ok && i < argc; i++) ok = napi_create_int32(env, values[i], &argv[i]) == napi_ok;
  napi_status st = ok ? napi_make_callback(env, h->async, recv, fn, argc, argv, &result) : napi_generic_failure;
  if (st == napi_pending_exception) {
    // The JavaScript side catches everything; if something still escaped, report it the way an
    // exception from any other callback is reported (process 'uncaughtException').
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
  return st == napi_ok ? 0 : -1;
}

// Drops the references and the async context (the handle object may then be collected).
static inline void js_handle_close(js_handle_t *h) {
  napi_delete_reference(h->env, h->callback);
  napi_delete_reference(h->env, h->self);
  napi_async_destroy(h->env, h->async);
}

// The native struct of the handle passed as a function's first argument (and that argument), or
// NULL with a TypeError thrown.
static inline void *js_handle_unwrap(napi_env env, napi_callback_info info, napi_value *argv0, const char *error) {
  size_t argc = 1;
  napi_value argv[1];
  void *p = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_unwrap(env, argv[0], &p) != napi_ok) {
    napi_throw_type_error(env, NULL, error);
    return NULL;
  }
  if (argv0) *argv0 = argv[0];
  return p;
}

#endif
