// Accepting TCP connections in batches for the edge's listener (Linux: accept4 until EAGAIN).
//
// Why this exists: libuv (Node 20 and 22) accepts one connection per event-loop turn on a
// listening socket, and a turn of a busy edge serves hundreds of open connections first. A burst
// of new connections (1000 clients connecting at once) then waits in the kernel's accept queue
// for seconds: measured with bench/edge.mjs, hundreds of wrk requests timed out at -c1000 while
// Varnish, whose acceptor thread empties the queue, timed out none. Here one wake-up accepts up
// to `batch` connections, and JavaScript wraps each one in a net.Socket (edge/batched-accept.ts).
//
// The listening socket stays node's (server.listen, its address, its close); we poll a
// duplicate of its descriptor beside libuv's own watcher. Whichever of the two wakes first takes
// the queue; the other finds it empty (EAGAIN), which both treat as nothing to do.
#define _GNU_SOURCE
#include "js_handle.h"
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  uv_poll_t poll;
  int fd; // our duplicate of the listening socket
  int batch;
  int32_t *fds; // the JavaScript arena the accepted descriptors are written to
  int closed;
  int paused;
  js_handle_t js; // onAccepted(count, errno)
  napi_ref arena;
} acceptor_t;

static void on_readable(uv_poll_t *poll, int status, int events) {
  acceptor_t *a = (acceptor_t *)poll->data;
  if (status < 0 || a->closed || a->paused || !(events & UV_READABLE)) return;
  int n = 0, err = 0;
  // At most `batch` per wake-up: the poll is level-triggered, so what is left in the queue wakes
  // us again next turn, after the connections already open had theirs.
  while (n < a->batch) {
    int fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      a->fds[n++] = fd;
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue; // a client gave up while queued: next
    if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
    break;
  }
  // Out of descriptors (EMFILE, ENFILE) or memory: level-triggered polling would spin on the
  // same error, so stop until JavaScript resumes after a pause (libuv's own watcher still runs).
  if (err != 0) {
    a->paused = 1;
    uv_poll_stop(&a->poll);
  }
  if (n == 0 && err == 0) return;
  int32_t args[2] = {n, err};
  if (js_handle_call(&a->js, 2, args) != 0) {
    for (int i = 0; i < n; i++) close(a->fds[i]);
  }
}

static void free_acceptor(uv_handle_t *h) { free(h->data); }

static void release(acceptor_t *a) {
  if (a->closed) return;
  a->closed = 1;
  uv_poll_stop(&a->poll);
  napi_delete_reference(a->js.env, a->arena);
  js_handle_close(&a->js);
  close(a->fd);
  uv_close((uv_handle_t *)&a->poll, free_acceptor);
}

// open(listenFd, fds: Int32Array, onAccepted(count, errno)) -> handle
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t listen_fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_value_int32(env, argv[0], &listen_fd) != napi_ok || listen_fd < 0) {
    napi_throw_type_error(env, NULL, "tcp_accept.open: expected (listenFd, fds, onAccepted)");
    return NULL;
  }
  bool is_typed = false;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_int32_array || length == 0) {
    napi_throw_type_error(env, NULL, "tcp_accept.open: fds must be a non-empty Int32Array");
    return NULL;
  }
  napi_valuetype fn_type;
  if (napi_typeof(env, argv[2], &fn_type) != napi_ok || fn_type != napi_function) {
    napi_throw_type_error(env, NULL, "tcp_accept.open: onAccepted must be a function");
    return NULL;
  }
  int fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    napi_throw_error(env, NULL, "tcp_accept.open: cannot duplicate the listening socket");
    return NULL;
  }
  acceptor_t *a = calloc(1, sizeof *a);
  uv_loop_t *loop;
  if (!a || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &a->poll, fd) != 0) {
    free(a);
    close(fd);
    napi_throw_error(env, NULL, "tcp_accept.open: cannot poll the listening socket");
    return NULL;
  }
  a->fd = fd;
  a->batch = (int)length;
  a->fds = data;
  a->poll.data = a;
  napi_create_reference(env, argv[1], 1, &a->arena);
  napi_value handle = js_handle_open(env, &a->js, a, argv[2], "meridian:tcp-accept");
  uv_poll_start(&a->poll, UV_READABLE, on_readable);
  return handle;
}

static acceptor_t *unwrap(napi_env env, napi_callback_info info, napi_value *argv0) {
  return js_handle_unwrap(env, info, argv0, "tcp_accept: expected a handle from open()");
}

// resume(handle): polls again after an error paused it.
static napi_value Resume(napi_env env, napi_callback_info info) {
  acceptor_t *a = unwrap(env, info, NULL);
  if (!a || a->closed || !a->paused) return NULL;
  a->paused = 0;
  uv_poll_start(&a->poll, UV_READABLE, on_readable);
  return NULL;
}

// close(handle): stops polling and closes our duplicate (node's listening socket stays open).
static napi_value Close(napi_env env, napi_callback_info info) {
  napi_value h;
  acceptor_t *a = unwrap(env, info, &h);
  if (!a) return NULL;
  napi_remove_wrap(env, h, NULL);
  release(a);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, Open, NULL, NULL, NULL, napi_default, NULL},
      {"resume", NULL, Resume, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, Close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
