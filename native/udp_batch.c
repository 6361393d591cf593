// Batched UDP receive and send for the DNS server's hot path (Linux: recvmmsg/sendmmsg).
//
// Why this exists: node:dgram makes one recvmsg and one sendmsg system call, one JavaScript
// callback and one Buffer per datagram; on a 2-core machine that alone costs ~20 µs of CPU per
// query, about three times what gdnsd spends (DESIGN.md, issue 2). Here one wake-up reads up to
// `batch` datagrams with one recvmmsg, JavaScript answers all of them in one call, and one
// sendmmsg sends the answers. Nothing is allocated per datagram: queries, answers and their
// metadata live in arenas JavaScript allocated once and shares with us.
//
// The socket is ours too (bind_udp): with several serving workers each binds its own with
// SO_REUSEPORT and the kernel spreads datagrams over them by flow, so a datagram wakes one
// worker, not all of them as a shared socket does. udp-batch.ts is the only caller; the arena
// layout is defined there and repeated in the comments below.
#define _GNU_SOURCE
#include "js_handle.h"
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BATCH 256
// Rounds of recvmmsg per wake-up before yielding to the event loop (timers, TCP, IPC).
#define MAX_ROUNDS 8

// Per-slot metadata, int32 fields (see udp-batch.ts META_*).
enum { M_IN_LEN = 0, M_OUT_LEN = 1, M_PORT = 2, M_ADDR_LEN = 3, META_INTS = 4 };
#define ADDR_TEXT 48 /* INET6_ADDRSTRLEN (46) rounded up */

typedef struct {
  uv_poll_t poll;
  int fd;
  int batch;
  size_t in_slot, out_slot;
  uint8_t *in, *out, *addr_text;
  int32_t *meta;
  js_handle_t js; // onBatch(n)
  napi_ref arenas[4]; // in, out, meta, addr: kept alive while we point into them
  struct mmsghdr rx[MAX_BATCH];
  struct iovec rx_iov[MAX_BATCH];
  struct sockaddr_storage from[MAX_BATCH];
  struct mmsghdr tx[MAX_BATCH];
  struct iovec tx_iov[MAX_BATCH];
  double received, sent, send_failed, truncated;
  int closed;
} batcher_t;

static void throw_errno(napi_env env, const char *what) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
  napi_throw_error(env, NULL, msg);
}

// Sends the answers JavaScript left in the out arena (slot i answers datagram i; length 0 = none).
static void send_answers(batcher_t *b, int n) {
  int count = 0;
  for (int i = 0; i < n; i++) {
    int32_t len = b->meta[i * META_INTS + M_OUT_LEN];
    if (len <= 0 || (size_t)len > b->out_slot) continue;
    b->tx_iov[count].iov_base = b->out + (size_t)i * b->out_slot;
    b->tx_iov[count].iov_len = (size_t)len;
    struct msghdr *h = &b->tx[count].msg_hdr;
    memset(h, 0, sizeof *h);
    h->msg_name = &b->from[i];
    h->msg_namelen = b->rx[i].msg_hdr.msg_namelen;
    h->msg_iov = &b->tx_iov[count];
    h->msg_iovlen = 1;
    count++;
  }
  int done = 0;
  while (done < count) {
    int r = sendmmsg(b->fd, b->tx + done, (unsigned)(count - done), MSG_DONTWAIT);
    if (r > 0) {
      done += r;
      b->sent += r;
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else {
      // This datagram cannot go (full send buffer, unreachable client): UDP may lose it, the
      // client retries. Skip it and send the rest.
      done++;
      b->send_failed++;
    }
  }
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  batcher_t *b = (batcher_t *)poll->data;
  if (status < 0 || b->closed || !(events & UV_READABLE)) return;
  for (int round = 0; round < MAX_ROUNDS && !b->closed; round++) {
    for (int i = 0; i < b->batch; i++) {
      b->rx[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
      b->rx[i].msg_hdr.msg_flags = 0;
    }
    int n = recvmmsg(b->fd, b->rx, (unsigned)b->batch, MSG_DONTWAIT, NULL);
    if (n <= 0) return; // EAGAIN: drained. Other errors (EINTR, a queued ICMP error) end this wake-up.
    b->received += n;
    for (int i = 0; i < n; i++) {
      int32_t *m = b->meta + i * META_INTS;
      int truncated = (b->rx[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
      if (truncated) b->truncated++;
      m[M_IN_LEN] = truncated ? -1 : (int32_t)b->rx[i].msg_len;
      m[M_OUT_LEN] = 0;
      char *text = (char *)b->addr_text + (size_t)i * ADDR_TEXT;
      const struct sockaddr_storage *ss = &b->from[i];
      const char *ok = NULL;
      if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sa = (const struct sockaddr_in *)ss;
        m[M_PORT] = ntohs(sa->sin_port);
        ok = inet_ntop(AF_INET, &sa->sin_addr, text, ADDR_TEXT);
      } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sa = (const struct sockaddr_in6 *)ss;
        m[M_PORT] = ntohs(sa->sin6_port);
        ok = inet_ntop(AF_INET6, &sa->sin6_addr, text, ADDR_TEXT);
      } else {
        m[M_PORT] = 0;
      }
      m[M_ADDR_LEN] = ok ? (int32_t)strlen(text) : 0;
    }
    int32_t count = n;
    if (js_handle_call(&b->js, 1, &count) != 0) return;
    if (b->closed) return;
    send_answers(b, n);
    if (n < b->batch) return;
  }
}

static int arena(napi_env env, napi_value v, void **data, size_t *len) {
  bool is_ab = false;
  if (napi_is_arraybuffer(env, v, &is_ab) != napi_ok || !is_ab) return 0;
  return napi_get_arraybuffer_info(env, v, data, len) == napi_ok;
}

static void free_batcher(uv_handle_t *h) { free(h->data); }

static void release(batcher_t *b) {
  if (b->closed) return;
  b->closed = 1;
  uv_poll_stop(&b->poll);
  for (int i = 0; i < 4; i++) napi_delete_reference(b->js.env, b->arenas[i]);
  js_handle_close(&b->js);
  close(b->fd);
  uv_close((uv_handle_t *)&b->poll, free_batcher);
}

// bind_udp(host, port, v6, reusePort) -> fd: a non-blocking UDP socket bound to host:port.
static napi_value BindUdp(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  char host[64];
  size_t host_len = 0;
  int32_t port;
  bool v6, reuse;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4 ||
      napi_get_value_string_latin1(env, argv[0], host, sizeof host, &host_len) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || napi_get_value_bool(env, argv[2], &v6) != napi_ok ||
      napi_get_value_bool(env, argv[3], &reuse) != napi_ok || port < 0 || port > 65535) {
    napi_throw_type_error(env, NULL, "bindUdp(host, port, v6, reusePort)");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t len;
  memset(&ss, 0, sizeof ss);
  if (v6) {
    struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &sa->sin6_addr) != 1) goto bad_host;
    len = sizeof *sa;
  } else {
    struct sockaddr_in *sa = (struct sockaddr_in *)&ss;
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) goto bad_host;
    len = sizeof *sa;
  }
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, "socket");
    return NULL;
  }
  int one = 1, buf = 4 << 20;
  // Large buffers ride out bursts while JavaScript answers the previous batch (best effort: the
  // kernel caps them at net.core.rmem_max / wmem_max).
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  if ((v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
      (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) || bind(fd, (struct sockaddr *)&ss, len) != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    throw_errno(env, "bind");
    return NULL;
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
bad_host:
  napi_throw_type_error(env, NULL, "bindUdp: not an IP address");
  return NULL;
}

// local_port(fd) -> the port the socket is bound to (after a bind to port 0).
static napi_value LocalPort(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  int32_t fd;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "localPort(fd)");
    return NULL;
  }
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
    throw_errno(env, "getsockname");
    return NULL;
  }
  int port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  napi_create_int32(env, port, &out);
  return out;
}

// closeFd(fd): for a socket from bindUdp that never reached open().
static napi_value CloseFd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 1 && napi_get_value_int32(env, argv[0], &fd) == napi_ok && fd >= 0) close(fd);
  return NULL;
}

// open(fd, batch, inSlot, outSlot, in: ArrayBuffer, out: ArrayBuffer, meta: ArrayBuffer,
//      addr: ArrayBuffer, onBatch(n)) -> handle object
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9], self;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok || argc != 9) {
    napi_throw_type_error(env, NULL, "open(fd, batch, inSlot, outSlot, in, out, meta, addr, onBatch)");
    return NULL;
  }
  int32_t fd, batch, in_slot, out_slot;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &batch) != napi_ok ||
      napi_get_value_int32(env, argv[2], &in_slot) != napi_ok || napi_get_value_int32(env, argv[3], &out_slot) != napi_ok ||
      fd < 0 || batch < 1 || batch > MAX_BATCH || in_slot < 12 || out_slot < 12) {
    napi_throw_range_error(env, NULL, "udp_batch.open: bad fd, batch (1..256) or slot size");
    return NULL;
  }
  void *in, *out, *meta, *addr;
  size_t in_len, out_len, meta_len, addr_len;
  if (!arena(env, argv[4], &in, &in_len) || !arena(env, argv[5], &out, &out_len) ||
      !arena(env, argv[6], &meta, &meta_len) || !arena(env, argv[7], &addr, &addr_len) ||
      in_len < (size_t)batch * in_slot || out_len < (size_t)batch * out_slot ||
      meta_len < (size_t)batch * META_INTS * 4 || addr_len < (size_t)batch * ADDR_TEXT) {
    napi_throw_range_error(env, NULL, "udp_batch.open: arenas too small for the batch");
    return NULL;
  }
  napi_valuetype t;
  napi_typeof(env, argv[8], &t);
  if (t != napi_function) {
    napi_throw_type_error(env, NULL, "udp_batch.open: onBatch must be a function");
    return NULL;
  }
  batcher_t *b = calloc(1, sizeof *b);
  if (!b) {
    napi_throw_error(env, NULL, "udp_batch.open: out of memory");
    return NULL;
  }
  b->fd = fd;
  b->batch = batch;
  b->in_slot = (size_t)in_slot;
  b->out_slot = (size_t)out_slot;
  b->in = in;
  b->out = out;
  b->meta = meta;
  b->addr_text = addr;
  for (int i = 0; i < batch; i++) {
    b->rx_iov[i].iov_base = b->in + (size_t)i * b->in_slot;
    b->rx_iov[i].iov_len = b->in_slot;
    b->rx[i].msg_hdr.msg_name = &b->from[i];
    b->rx[i].msg_hdr.msg_iov = &b->rx_iov[i];
    b->rx[i].msg_hdr.msg_iovlen = 1;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &b->poll, b->fd) != 0) {
    free(b);
    napi_throw_error(env, NULL, "udp_batch.open: cannot poll the socket");
    return NULL;
  }
  b->poll.data = b;
  for (int i = 0; i < 4; i++) napi_create_reference(env, argv[4 + i], 1, &b->arenas[i]);
  napi_value handle = js_handle_open(env, &b->js, b, argv[8], "meridian:udp-batch");
  uv_poll_start(&b->poll, UV_READABLE, on_readable);
  return handle;
}

static batcher_t *unwrap(napi_env env, napi_callback_info info, napi_value *argv0) {
  return js_handle_unwrap(env, info, argv0, "udp_batch: expected a handle from open()");
}

// close(handle): stops polling and closes the socket.
static napi_value Close(napi_env env, napi_callback_info info) {
  napi_value h;
  batcher_t *b = unwrap(env, info, &h);
  if (!b) return NULL;
  napi_remove_wrap(env, h, NULL);
  release(b);
  return NULL;
}

// stats(handle) -> [received, sent, sendFailed, truncated]
static napi_value Stats(napi_env env, napi_callback_info info) {
  batcher_t *b = unwrap(env, info, NULL);
  if (!b) return NULL;
  napi_value arr, v;
  napi_create_array_with_length(env, 4, &arr);
  double vals[4] = {b->received, b->sent, b->send_failed, b->truncated};
  for (uint32_t i = 0; i < 4; i++) {
    napi_create_double(env, vals[i], &v);
    napi_set_element(env, arr, i, v);
  }
  return arr;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, Open, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, Close, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, Stats, NULL, NULL, NULL, napi_default, NULL},
      {"bindUdp", NULL, BindUdp, NULL, NULL, NULL, napi_default, NULL},
      {"localPort", NULL, LocalPort, NULL, NULL, NULL, napi_default, NULL},
      {"closeFd", NULL, CloseFd, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 6, props);
  napi_value v;
  napi_create_int32(env, ADDR_TEXT, &v);
  napi_set_named_property(env, exports, "ADDR_TEXT", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
