/*
 * engine.c: the parts every native RTP engine shares (see engine.h): creation and the shard
 * threads (pinned with sched_setaffinity), the RX/TX rings, the doorbell JS waits on, the
 * calls table with port allocation and socket binding, and the control queue that hands a
 * call's sockets to its shard. The engine kinds (uring.c, ffi/xdp) supply the shard loop.
 *
 * Validation and error strings happen here, at setup; the shard loops do no checks beyond
 * what a hostile packet needs.
 */
#define _GNU_SOURCE
#include "engine_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "../xdp/bpf_obj.h"
#include "../xdp/steer.h"

/* The AF_XDP engine lives in ffi/xdp (helper "xdp"); until it is linked in, it is absent. */
extern const struct cc_engine_ops cc_xdp_ops __attribute__((weak));

static __thread char last_error[256];

void cc_engine_set_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
}

const char *cc_engine_last_error(void) { return last_error; }

static long futex(uint32_t *word, int op, uint32_t val, const struct timespec *timeout) {
  return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

/* ---- port claims ----
 * A call's ports are claimed before they are bound, for as long as the call holds them: an
 * abstract unix socket named after the port ("\0clutchcall-rtp/<port>"), which only one socket
 * in the network namespace (the UDP ports' namespace too) can bind, whatever its process. A
 * steered call has to bind its ports with SO_REUSEPORT, which lets any same-uid socket bound
 * with it join the port's group: without the claim, two engines (two servers, two test
 * processes) could both probe a port free and both bind it, one group for two calls, and the
 * second's steering program replacing the first's. The claim is released by the kernel when
 * the process dies, so nothing is left behind by a crash. Keyed by port alone: an engine on
 * another local address skips the port too (conservative; ports are plentiful). */
static int claim_port(uint32_t port) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  int n = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "clutchcall-rtp/%u", port);
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1u + (size_t)n);
  if (bind(fd, (struct sockaddr *)&sa, len) != 0) {
    int err = -errno;
    close(fd);
    return err;
  }
  return fd;
}

static void release_claims(struct cc_call *c) {
  for (int k = 0; k < 2; k++) {
    if (c->claim[k] >= 0) close(c->claim[k]);
    c->claim[k] = -1;
  }
}

/* Test seam, for the C unit tests only (ffi/engine/test_port_claim.c defines it; the library
 * leaves it NULL): called with a steered call's port claimed and probed, just before its
 * SO_REUSEPORT sockets bind — the window another engine must not be able to use. */
extern void cc_test_steered_bind_window(uint32_t port) __attribute__((weak));

static const struct cc_engine_ops *ops_of(int kind) {
  if (kind == CC_ENGINE_URING) return &cc_uring_ops;
  if (kind == CC_ENGINE_XDP) return &cc_xdp_ops ? &cc_xdp_ops : NULL;
  return NULL;
}

int cc_engine_probe(int kind, const cc_engine_cfg_t *cfg) {
  const struct cc_engine_ops *ops = ops_of(kind);
  if (!ops) {
    cc_engine_set_error(kind == CC_ENGINE_XDP ? "the AF_XDP engine is not built into this library"
                                              : "unknown engine kind %d", kind);
    return CC_ENOSUPPORT;
  }
  return ops->probe ? ops->probe(cfg) : CC_OK;
}

int cc_engine_create(int kind, const cc_engine_cfg_t *cfg, cc_engine_t **out) {
  if (!cfg || !out) {
    cc_engine_set_error("cfg and out are required");
    return CC_EINVAL;
  }
  int rc = cc_engine_probe(kind, cfg);
  if (rc != CC_OK) return rc;
  uint32_t depth = cfg->ring_depth ? cfg->ring_depth : 4096u;
  if (!cc_ring_footprint(depth, CC_RING_MIN_SLOT)) {
    cc_engine_set_error("ring_depth %u is not a power of two in 2..2^20", depth);
    return CC_EINVAL;
  }
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  uint32_t n = cfg->shards ? cfg->shards : (uint32_t)(online > 0 ? online : 1);
  if (n > 64u) {
    cc_engine_set_error("at most 64 shards, not %u", n);
    return CC_EINVAL;
  }
  cc_engine_t *e = calloc(1, sizeof *e);
  if (!e) return CC_ENOMEM;
  e->kind = kind;
  e->ops = ops_of(kind);
  e->cfg = *cfg;
  e->cfg.ring_depth = depth;
  e->nshards = n;
  e->next_gen = 1;
  pthread_mutex_init(&e->lock, NULL);
  e->calls = calloc(CC_MAX_CALLS, sizeof *e->calls);
  e->shards = calloc(n, sizeof *e->shards);
  if (!e->calls || !e->shards) goto nomem;
  for (uint32_t i = 0; i < CC_MAX_CALLS; i++) {
    struct cc_call *c = &e->calls[i];
    c->fd[0] = c->fd[1] = c->claim[0] = c->claim[1] = -1;
  }
  for (uint32_t i = 0; i < n; i++) {
    struct cc_shard *s = &e->shards[i];
    s->e = e;
    s->index = i;
    s->kick_fd = -1;
    pthread_mutex_init(&s->ctl_lock, NULL);
    s->rx = cc_ring_join(cc_ring_alloc(depth, CC_RING_MIN_SLOT));
    s->tx = cc_ring_join(cc_ring_alloc(depth, CC_RING_MIN_SLOT));
    if (!s->rx || !s->tx) goto nomem;
    s->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->kick_fd < 0) {
      rc = -errno;
      cc_engine_set_error("eventfd: %s", strerror(errno));
      cc_engine_destroy(e);
      return rc;
    }
    rc = e->ops->shard_init ? e->ops->shard_init(e, i) : CC_OK;
    if (rc != CC_OK) {
      cc_engine_destroy(e);
      return rc;
    }
  }
  *out = e;
  return CC_OK;
nomem:
  cc_engine_set_error("out of memory for %u shards of %u records", n, depth);
  cc_engine_destroy(e);
  return CC_ENOMEM;
}

static void *shard_thread(void *arg) {
  struct cc_shard *s = arg;
  cc_engine_t *e = s->e;
  if (e->cfg.first_cpu >= 0) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((uint32_t)(e->cfg.first_cpu + (int32_t)s->index) % (uint32_t)(online > 0 ? online : 1), &set);
    /* Best effort: a container may forbid some CPUs; the shard still runs unpinned. */
    (void)sched_setaffinity(0, sizeof set, &set);
  }
  char name[16];
  snprintf(name, sizeof name, "cc-%s-%u", e->ops->name, s->index);
  pthread_setname_np(pthread_self(), name);
  return e->ops->shard_main(s);
}

int cc_engine_start(cc_engine_t *e) {
  if (!e || e->running || e->stopped) return CC_ESTATE;
  for (uint32_t i = 0; i < e->nshards; i++) {
    int rc = pthread_create(&e->shards[i].thread, NULL, shard_thread, &e->shards[i]);
    if (rc != 0) {
      cc_engine_set_error("pthread_create: %s", strerror(rc));
      cc_engine_stop(e);
      return -rc;
    }
    e->shards[i].started = 1;
  }
  e->running = 1;
  return CC_OK;
}

int cc_engine_stop(cc_engine_t *e) {
  if (!e) return CC_EINVAL;
  if (e->stopped) return CC_OK;
  __atomic_store_n(&e->stopping, 1u, __ATOMIC_SEQ_CST);
  for (uint32_t i = 0; i < e->nshards; i++) cc_engine_kick(e, i);
  for (uint32_t i = 0; i < e->nshards; i++) {
    if (e->shards[i].started) pthread_join(e->shards[i].thread, NULL);
    e->shards[i].started = 0;
  }
  /* Sockets the shards did not close (calls still open at stop). */
  for (uint32_t i = 0; i < CC_MAX_CALLS; i++) {
    struct cc_call *c = &e->calls[i];
    for (int k = 0; k < 2; k++) {
      if (c->fd[k] >= 0) close(c->fd[k]);
      c->fd[k] = -1;
    }
    release_claims(c);
    c->state = CC_CALL_FREE;
    for (uint32_t k = 0; e->peers && k < e->nshards; k++) {
      struct cc_peer_socks *p = &e->peers[(size_t)i * e->nshards + k];
      for (int j = 0; j < 2; j++) {
        if (p->held && p->fd[j] >= 0) close(p->fd[j]);
        p->fd[j] = -1;
      }
      p->held = 0;
    }
  }
  e->running = 0;
  e->stopped = 1;
  cc_engine_ring_doorbell(e); /* wake a pending cc_engine_wait: it returns CC_ESTATE */
  return CC_OK;
}

void cc_engine_destroy(cc_engine_t *e) {
  if (!e) return;
  if (e->running) cc_engine_stop(e);
  for (uint32_t i = 0; e->shards && i < e->nshards; i++) {
    struct cc_shard *s = &e->shards[i];
    if (e->ops->shard_fini) e->ops->shard_fini(e, i);
    if (s->kick_fd >= 0) close(s->kick_fd);
    cc_ring_free(s->rx);
    cc_ring_free(s->tx);
  }
  cc_steer_close(e->steer);
  free(e->peers);
  free(e->shards);
  free(e->calls);
  free(e);
}

uint32_t cc_engine_shards(cc_engine_t *e) { return e ? e->nshards : 0u; }
void *cc_engine_rx_ring(cc_engine_t *e, uint32_t shard) {
  return e && shard < e->nshards ? (void *)e->shards[shard].rx : NULL;
}
void *cc_engine_tx_ring(cc_engine_t *e, uint32_t shard) {
  return e && shard < e->nshards ? (void *)e->shards[shard].tx : NULL;
}

void cc_engine_ring_doorbell(cc_engine_t *e) {
  /* SEQ_CST pair with cc_engine_wait (waiters++ then re-read the bell): see ring.c flush. */
  __atomic_add_fetch(&e->doorbell, 1u, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&e->bell_waiters, __ATOMIC_SEQ_CST) != 0u) {
    futex(&e->doorbell, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
  }
}

int cc_engine_wake(cc_engine_t *e) {
  if (!e) return CC_EINVAL;
  cc_engine_ring_doorbell(e);
  return CC_OK;
}

uint32_t cc_engine_doorbell(cc_engine_t *e) { return __atomic_load_n(&e->doorbell, __ATOMIC_SEQ_CST); }

int64_t cc_engine_wait(cc_engine_t *e, uint32_t seen, int32_t timeout_ms) {
  if (!e) return CC_EINVAL;
  if (__atomic_load_n(&e->stopping, __ATOMIC_SEQ_CST)) return CC_ESTATE;
  __atomic_add_fetch(&e->bell_waiters, 1u, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&e->doorbell, __ATOMIC_SEQ_CST) == seen) {
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
    /* EAGAIN (the bell moved), ETIMEDOUT and EINTR all just return the current bell. */
    (void)futex(&e->doorbell, FUTEX_WAIT_PRIVATE, seen, timeout_ms < 0 ? NULL : &ts);
  }
  __atomic_sub_fetch(&e->bell_waiters, 1u, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&e->stopping, __ATOMIC_SEQ_CST)) return CC_ESTATE;
  return (int64_t)__atomic_load_n(&e->doorbell, __ATOMIC_SEQ_CST);
}

int cc_engine_kick(cc_engine_t *e, uint32_t shard) {
  if (!e || shard >= e->nshards) return CC_EINVAL;
  uint64_t one = 1;
  /* EAGAIN: the counter is already huge, the shard is awake anyway. */
  if (write(e->shards[shard].kick_fd, &one, sizeof one) < 0 && errno != EAGAIN) return -errno;
  return CC_OK;
}

int cc_engine_stats(cc_engine_t *e, uint32_t shard, uint64_t *out16) {
  if (!e || shard >= e->nshards || !out16) return CC_EINVAL;
  memset(out16, 0, 16 * sizeof *out16);
  for (int i = 0; i < CC_ST_COUNT; i++) {
    out16[i] = __atomic_load_n(&e->shards[shard].stats[i], __ATOMIC_RELAXED);
  }
  out16[CC_ST_RX_RING_FULL] += __atomic_load_n(&e->shards[shard].rx->drops, __ATOMIC_RELAXED);
  return CC_OK;
}

/* ---- calls ---- */

static int port_held(cc_engine_t *e, uint32_t p) { return e->ports_held[p >> 3] & (1u << (p & 7u)); }
static void port_mark(cc_engine_t *e, uint32_t p, int on) {
  if (on) e->ports_held[p >> 3] |= (uint8_t)(1u << (p & 7u));
  else e->ports_held[p >> 3] &= (uint8_t)~(1u << (p & 7u));
}

static int bind_udp(cc_engine_t *e, const cc_call_cfg_t *cfg, uint16_t port, int reuse) {
  int v6 = cfg->family == 6;
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1, zero = 0;
  if (reuse || (e->cfg.flags & CC_ENGINE_F_REUSEPORT)) {
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  }
  /* Dual-stack whatever the sysctl says: bound to :: the call also takes IPv4 peers. */
  if (v6) (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (e->cfg.busy_poll_us) {
    int us = (int)e->cfg.busy_poll_us;
    /* Best effort: SO_BUSY_POLL needs CAP_NET_ADMIN to raise it; the shard spins anyway. */
    (void)setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof us);
  }
  int rcvbuf = 1 << 20;
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  int rc;
  if (v6) {
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    memcpy(&sa.sin6_addr, cfg->addr6, 16);
    rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
  } else {
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = {cfg->ipv4}};
    rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
  }
  if (rc != 0) {
    int err = -errno;
    close(fd);
    return err;
  }
  return fd;
}

static void push_op(cc_engine_t *e, uint32_t shard, const struct cc_ctl *op) {
  struct cc_shard *s = &e->shards[shard];
  pthread_mutex_lock(&s->ctl_lock);
  /* Assumed: fewer than CC_CTL_MAX control ops between two shard iterations (each op is one
   * call open/close/filter change from the single JS thread, and the shard drains them every
   * wake-up). */
  if (s->ctl_n < CC_CTL_MAX) s->ctl[s->ctl_n++] = *op;
  pthread_mutex_unlock(&s->ctl_lock);
  cc_engine_kick(e, shard);
}

static void push_ctl3(cc_engine_t *e, uint32_t shard, uint32_t op, uint32_t index, uint32_t a,
                      uint32_t b, uint32_t c) {
  push_op(e, shard, &(struct cc_ctl){op, index, a, b, c, {0}});
}

static void push_ctl(cc_engine_t *e, uint32_t shard, uint32_t op, uint32_t index) {
  push_ctl3(e, shard, op, index, 0, 0, 0);
}

uint32_t cc_shard_take_ctl(struct cc_shard *s, struct cc_ctl *out, uint32_t max) {
  pthread_mutex_lock(&s->ctl_lock);
  uint32_t n = s->ctl_n < max ? s->ctl_n : max;
  memcpy(out, s->ctl, n * sizeof *out);
  memmove(s->ctl, s->ctl + n, (s->ctl_n - n) * sizeof *out);
  s->ctl_n -= n;
  pthread_mutex_unlock(&s->ctl_lock);
  return n;
}

void cc_shard_ctl_done(struct cc_shard *s) {
  __atomic_add_fetch(&s->ctl_done, 1u, __ATOMIC_SEQ_CST);
  futex(&s->ctl_done, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
}

void cc_shard_call_freed(struct cc_shard *s, struct cc_call *c) {
  __atomic_store_n(&c->state, CC_CALL_FREE, __ATOMIC_RELEASE);
  /* SEQ_CST pair with cc_call_close (reads the bell, then the state, then waits on the bell). */
  __atomic_add_fetch(&s->e->freed_bell, 1u, __ATOMIC_SEQ_CST);
  futex(&s->e->freed_bell, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
}

void cc_shard_call_released(struct cc_shard *s, struct cc_call *c) {
  /* ACQ_REL: the last holder sees every other holder's closes before it frees the slot. */
  if (__atomic_sub_fetch(&c->holders, 1u, __ATOMIC_ACQ_REL) == 0u) cc_shard_call_freed(s, c);
}

/* ---- sk_reuseport steering ---- */

int cc_engine_steer(cc_engine_t *e, uint16_t port_min, uint16_t port_max) {
  if (!e) return CC_EINVAL;
  pthread_mutex_lock(&e->lock);
  int rc = CC_OK;
  int busy = e->steer != NULL;
  for (uint32_t i = 0; !busy && i < CC_MAX_CALLS; i++) {
    busy = __atomic_load_n(&e->calls[i].state, __ATOMIC_ACQUIRE) != CC_CALL_FREE;
  }
  if (busy) {
    cc_engine_set_error("steering must be set up once, before any call opens");
    rc = CC_ESTATE;
  } else if (e->kind != CC_ENGINE_URING) {
    cc_engine_set_error("the %s engine steers by NIC queue, not sk_reuseport", e->ops->name);
    rc = CC_ENOSUPPORT;
  } else if (e->nshards < 2) {
    cc_engine_set_error("one shard: nothing to steer");
    rc = CC_ENOSUPPORT;
  } else if (port_min < 1024u || port_min > port_max) {
    cc_engine_set_error("invalid steering port range %u-%u", port_min, port_max);
    rc = CC_EINVAL;
  } else {
    e->peers = calloc((size_t)CC_MAX_CALLS * e->nshards, sizeof *e->peers);
    if (!e->peers) {
      cc_engine_set_error("out of memory for steering %u shards", e->nshards);
      rc = CC_ENOMEM;
    } else {
      for (size_t i = 0; i < (size_t)CC_MAX_CALLS * e->nshards; i++) {
        e->peers[i].fd[0] = e->peers[i].fd[1] = -1;
      }
      int err = cc_steer_open(port_min, (uint32_t)port_max - port_min + 1u, e->nshards, &e->steer);
      if (err) {
        cc_engine_set_error("sk_reuseport steering unavailable: %s", cc_xdp_last_error());
        free(e->peers);
        e->peers = NULL;
        e->steer = NULL;
        rc = CC_ENOSUPPORT;
      } else {
        e->steer_min = port_min;
        e->steer_max = port_max;
        /* Engines of other processes on the same range would probe the same ports first; a
         * start of their own makes the probe-then-bind window (bind_steered) race nobody. */
        e->port_cursor = ((uint32_t)getpid() * 2654435761u) >> 8;
      }
    }
  }
  pthread_mutex_unlock(&e->lock);
  return rc;
}

int cc_engine_steer_stats(cc_engine_t *e, uint64_t *out4) {
  if (!e || !out4) return CC_EINVAL;
  if (!e->steer) return CC_ESTATE;
  return cc_steer_stats(e->steer, out4);
}

/* Binds the steered sockets of a call on `port` (and port + 1 unless rtcp_mux): one
 * SO_REUSEPORT socket per shard and port, each registered in the steering array, the port
 * entries naming `owner`. The owner's go to c->fd, the others to e->peers. 0 or -errno. */
static int bind_steered(cc_engine_t *e, uint32_t index, const cc_call_cfg_t *cfg, uint32_t port,
                        uint32_t owner, struct cc_call *c) {
  uint32_t nsock = cfg->rtcp_mux ? 1u : 2u;
  /* SO_REUSEPORT lets a same-uid socket of another process join a group: probe each port with
   * a plain socket first, so a port anyone holds is skipped (EADDRINUSE) as without steering.
   * Another engine cannot take the port between the probe and the binds below: the caller
   * holds its claim (claim_port). A socket that is not an engine's and binds plain in that
   * window makes the binds below fail with EADDRINUSE, and the caller tries the next port;
   * only a foreign SO_REUSEPORT socket of the same uid binding in it could still join. */
  for (uint32_t k = 0; k < nsock; k++) {
    int probe = bind_udp(e, cfg, (uint16_t)(port + k), 0);
    if (probe < 0) return probe;
    close(probe);
  }
  if (cc_test_steered_bind_window) cc_test_steered_bind_window(port);
  int rc = 0;
  uint32_t sh = 0, k = 0;
  for (sh = 0; sh < e->nshards && rc == 0; sh++) {
    int *fds = cc_call_fds(e, c, index, sh);
    fds[0] = fds[1] = -1;
    for (k = 0; k < nsock && rc == 0; k++) {
      int fd = bind_udp(e, cfg, (uint16_t)(port + k), 1);
      if (fd < 0) {
        rc = fd;
        break;
      }
      fds[k] = fd;
      if (cc_steer_add_socket(e->steer, fd, (uint16_t)(port + k), sh) != 0) {
        cc_engine_set_error("%s", cc_xdp_last_error());
        rc = -EIO;
      }
    }
  }
  for (k = 0; k < nsock && rc == 0; k++) {
    if (cc_steer_set_port(e->steer, (uint16_t)(port + k), owner) != 0) rc = -EIO;
  }
  if (rc != 0) {
    for (k = 0; k < nsock; k++) cc_steer_clear_port(e->steer, (uint16_t)(port + k));
    for (sh = 0; sh < e->nshards; sh++) {
      int *fds = cc_call_fds(e, c, index, sh);
      for (k = 0; k < 2; k++) {
        if (fds[k] >= 0) close(fds[k]);
        fds[k] = -1;
      }
    }
    return rc;
  }
  for (sh = 0; sh < e->nshards; sh++) {
    if (sh != owner) e->peers[(size_t)index * e->nshards + sh].held = 1;
  }
  return 0;
}

int cc_call_open(cc_engine_t *e, const cc_call_cfg_t *cfg, uint32_t *out3) {
  if (!e || !cfg || !out3) return CC_EINVAL;
  if (!e->running) return CC_ESTATE;
  uint32_t min = cfg->port_min + (cfg->port_min & 1u);
  uint32_t max = (uint32_t)cfg->port_max - (cfg->rtcp_mux ? 0u : 1u);
  if (cfg->port) min = max = cfg->port;
  if (min < 1024u || max > 65535u || min > max) {
    cc_engine_set_error("invalid RTP port range %u-%u", cfg->port_min, cfg->port_max);
    return CC_EINVAL;
  }
  if (cfg->family != 0 && cfg->family != 4 && cfg->family != 6) {
    cc_engine_set_error("invalid address family %u (4 or 6)", cfg->family);
    return CC_EINVAL;
  }
  if (cfg->family == 6 && e->kind != CC_ENGINE_URING) {
    cc_engine_set_error("the %s engine binds IPv4 only", e->ops->name);
    return CC_ENOSUPPORT;
  }
  pthread_mutex_lock(&e->lock);
  uint32_t index = CC_MAX_CALLS;
  for (uint32_t i = 0; i < CC_MAX_CALLS; i++) {
    if (__atomic_load_n(&e->calls[i].state, __ATOMIC_ACQUIRE) == CC_CALL_FREE && e->calls[i].fd[0] < 0) {
      index = i;
      break;
    }
  }
  if (index == CC_MAX_CALLS) {
    pthread_mutex_unlock(&e->lock);
    cc_engine_set_error("all %u call slots are in use", CC_MAX_CALLS);
    return CC_EFULL;
  }
  uint32_t slots = (max - min) / 2u + 1u;
  int rc = CC_EFULL, fd0 = -1, fd1 = -1;
  struct cc_call *c = &e->calls[index];
  release_claims(c); /* a slot whose close timed out and that its shard freed later */
  /* Steered when the whole range lies in the steering range (else one socket, as without). */
  int steered = e->steer && min >= e->steer_min && max + (cfg->rtcp_mux ? 0u : 1u) <= e->steer_max;
  uint32_t port = 0;
  for (uint32_t i = 0; i < slots; i++) {
    port = min + ((e->port_cursor + i) % slots) * 2u;
    if (cfg->port == 0 && port_held(e, port)) continue;
    c->claim[0] = claim_port(port);
    if (c->claim[0] >= 0 && !cfg->rtcp_mux) c->claim[1] = claim_port(port + 1u);
    if (c->claim[0] < 0 || (!cfg->rtcp_mux && c->claim[1] < 0)) {
      rc = c->claim[0] < 0 ? c->claim[0] : c->claim[1];
      release_claims(c);
      if (rc != -EADDRINUSE) break;
      rc = CC_EFULL; /* another engine holds it: the next port */
      continue;
    }
    if (steered) {
      c->shard = index % e->nshards; /* bind_steered reads it through cc_call_fds */
      fd0 = bind_steered(e, index, cfg, port, c->shard, c);
      if (fd0 == 0) {
        fd0 = c->fd[0];
        fd1 = c->fd[1];
      }
    } else {
      fd0 = bind_udp(e, cfg, (uint16_t)port, 0);
    }
    if (!steered && fd0 >= 0 && !cfg->rtcp_mux) {
      fd1 = bind_udp(e, cfg, (uint16_t)(port + 1u), 0);
      if (fd1 < 0) {
        close(fd0);
        fd0 = fd1;
      }
    }
    if (fd0 >= 0) {
      e->port_cursor = (e->port_cursor + i + 1u) % slots;
      rc = CC_OK;
      break;
    }
    release_claims(c);
    rc = fd0;
    if (rc != -EADDRINUSE) break;
    rc = CC_EFULL;
  }
  if (rc != CC_OK) {
    pthread_mutex_unlock(&e->lock);
    if (rc == CC_EFULL) cc_engine_set_error("no free RTP port pair in %u-%u", cfg->port_min, cfg->port_max);
    else cc_engine_set_error("bind: %s", strerror(-rc));
    return rc == CC_EFULL && cfg->port ? -EADDRINUSE : rc;
  }
  port_mark(e, port, 1);
  uint16_t gen = e->next_gen++;
  if (e->next_gen == 0) e->next_gen = 1;
  c->id = ((uint32_t)gen << 16) | index;
  c->shard = index % e->nshards;
  c->fd[0] = fd0;
  c->fd[1] = fd1;
  c->armed[0] = c->armed[1] = 0;
  c->port = (uint16_t)port;
  c->family = cfg->family == 6 ? 6 : 4;
  c->steered = (uint8_t)steered;
  c->filtering = 0;
  memset(&c->filter_cfg, 0, sizeof c->filter_cfg);
  memset(c->drops, 0, sizeof c->drops);
  c->holders = steered ? e->nshards : 1u;
  __atomic_store_n(&c->remote[0], 0ull, __ATOMIC_RELAXED);
  __atomic_store_n(&c->remote[1], 0ull, __ATOMIC_RELAXED);
  __atomic_store_n(&c->state, CC_CALL_OPENING, __ATOMIC_RELEASE); /* fields before state */
  pthread_mutex_unlock(&e->lock);
  /* Steered: every shard arms its own sockets of the call (the owner's first). */
  push_ctl(e, c->shard, CC_CTL_ADD, index);
  for (uint32_t k = 0; steered && k < e->nshards; k++) {
    if (k != c->shard) push_ctl(e, k, CC_CTL_ADD, index);
  }
  out3[0] = c->id;
  out3[1] = port;
  out3[2] = c->shard;
  return CC_OK;
}

static struct cc_call *call_of(cc_engine_t *e, uint32_t id) {
  uint32_t index = id & 0xffffu;
  if (index >= CC_MAX_CALLS || e->calls[index].id != id) return NULL;
  uint32_t st = __atomic_load_n(&e->calls[index].state, __ATOMIC_ACQUIRE);
  return st == CC_CALL_OPENING || st == CC_CALL_LIVE ? &e->calls[index] : NULL;
}

int cc_call_remote(cc_engine_t *e, uint32_t call, uint32_t ipv4, uint16_t rtp_port, uint16_t rtcp_port) {
  if (!e) return CC_EINVAL;
  struct cc_call *c = call_of(e, call);
  if (!c) return CC_ESTATE;
  __atomic_store_n(&c->remote[0], ((uint64_t)ipv4 << 16) | rtp_port, __ATOMIC_RELEASE);
  __atomic_store_n(&c->remote[1], ((uint64_t)ipv4 << 16) | rtcp_port, __ATOMIC_RELEASE);
  return CC_OK;
}

int cc_call_filter(cc_engine_t *e, uint32_t call, const void *cfg16) {
  if (!e || !cfg16) return CC_EINVAL;
  if (e->kind != CC_ENGINE_URING) {
    cc_engine_set_error("the %s engine has no source filter", e->ops->name);
    return CC_ENOSUPPORT;
  }
  pthread_mutex_lock(&e->lock);
  struct cc_call *c = call_of(e, call);
  int rc = c ? CC_OK : CC_ESTATE;
  if (c) {
    const cc_src_filter_cfg_t *cfg = cfg16;
    if (c->filter_cfg.probation == 0) { /* the first: probation is >= 1 once set */
      c->filter_cfg = *cfg;
      if (c->filter_cfg.probation == 0) c->filter_cfg.probation = 1;
      /* Written once, before the op is pushed: the shard reads it after taking the op (mutex). */
      push_ctl(e, c->shard, CC_CTL_FILTER, call & 0xffffu);
    } else {
      push_ctl3(e, c->shard, CC_CTL_FILTER_PT, call & 0xffffu, cfg->pt_audio, cfg->pt_event, 0);
    }
  }
  pthread_mutex_unlock(&e->lock);
  return rc;
}

int cc_call_filter_remote(cc_engine_t *e, uint32_t call, const uint8_t *addr16, uint16_t port,
                          uint32_t rtcp_port) {
  if (!e || !addr16) return CC_EINVAL;
  pthread_mutex_lock(&e->lock);
  struct cc_call *c = call_of(e, call);
  if (c) {
    struct cc_ctl op = {CC_CTL_FILTER_REMOTE, call & 0xffffu, 0, port, rtcp_port, {0}};
    memcpy(op.addr, addr16, 16);
    push_op(e, c->shard, &op);
  }
  pthread_mutex_unlock(&e->lock);
  return c ? CC_OK : CC_ESTATE;
}

int cc_call_filter_drops(cc_engine_t *e, uint32_t call, uint32_t *out3) {
  if (!e || !out3) return CC_EINVAL;
  struct cc_call *c = call_of(e, call);
  if (!c) return CC_ESTATE;
  for (int k = 0; k < 3; k++) out3[k] = __atomic_load_n(&c->drops[k], __ATOMIC_RELAXED);
  return CC_OK;
}

int cc_call_close(cc_engine_t *e, uint32_t call) {
  if (!e) return CC_EINVAL;
  pthread_mutex_lock(&e->lock);
  struct cc_call *c = call_of(e, call);
  if (!c) {
    pthread_mutex_unlock(&e->lock);
    return CC_OK; /* closing twice is a no-op */
  }
  uint32_t index = call & 0xffffu, shard = c->shard, port = c->port;
  int steered = c->steered;
  if (steered) { /* the group's default hash takes the ports until the sockets are gone */
    cc_steer_clear_port(e->steer, (uint16_t)port);
    cc_steer_clear_port(e->steer, (uint16_t)(port + 1u));
  }
  __atomic_store_n(&c->state, CC_CALL_CLOSING, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&e->lock);
  if (!e->running) return CC_OK;
  push_ctl(e, shard, CC_CTL_CLOSE, index);
  for (uint32_t k = 0; steered && k < e->nshards; k++) {
    if (k != shard) push_ctl(e, k, CC_CTL_CLOSE, index);
  }
  /* Wait (bounded) until the shards closed the sockets, so the port can be bound again at once
   * (the gateway reopens a session on the same port when the answer changes the codec). */
  for (int i = 0; i < 200 && __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != CC_CALL_FREE; i++) {
    uint32_t seen = __atomic_load_n(&e->freed_bell, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == CC_CALL_FREE) break;
    struct timespec ts = {0, 10 * 1000000L};
    futex(&e->freed_bell, FUTEX_WAIT_PRIVATE, seen, &ts);
  }
  pthread_mutex_lock(&e->lock);
  int freed = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == CC_CALL_FREE;
  if (freed) {
    port_mark(e, port, 0);
    release_claims(c);
  }
  pthread_mutex_unlock(&e->lock);
  if (!freed) {
    cc_engine_set_error("shard %u did not close call %u within 2 s", shard, call);
    return CC_ESTATE;
  }
  return CC_OK;
}
