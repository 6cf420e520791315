/*
 * engine_impl.h: the engine internals shared by engine.c and the engine kinds (ffi/uring,
 * ffi/xdp). Not part of the FFI surface.
 *
 * Threads: the JS thread calls every cc_engine_* / cc_call_* function; each shard thread only
 * touches its own struct cc_shard, the calls whose `shard` it is, and the doorbell.
 */
#ifndef CC_ENGINE_IMPL_H
#define CC_ENGINE_IMPL_H

#include <pthread.h>
#include <stdint.h>
#include "../pkt/src_filter.h"
#include "../ring/ring.h"
#include "engine.h"

#define CC_MAX_CALLS 16384u /* call slots per engine (index = id & 0xffff) */
#define CC_CTL_MAX 1024u

enum { CC_CALL_FREE = 0, CC_CALL_OPENING, CC_CALL_LIVE, CC_CALL_CLOSING };
enum { CC_CTL_ADD = 1, CC_CTL_CLOSE = 2, CC_CTL_FILTER = 3, CC_CTL_FILTER_PT = 4, CC_CTL_FILTER_REMOTE = 5 };

struct cc_call {
  uint32_t state; /* CC_CALL_*: JS writes FREE→OPENING and →CLOSING, the shard →LIVE and →FREE (atomics) */
  uint32_t id;    /* (generation << 16) | index */
  uint32_t shard;
  int fd[2];      /* RTP, RTCP (-1 with rtcp-mux) */
  int claim[2];   /* the ports' claims (engine.c claim_port), held while the call has them */
  uint8_t armed[2]; /* shard-only: a multishot receive is pending on fd[i] */
  uint16_t port;
  uint8_t family;     /* its sockets' address family: 4 or 6 (cc_call_cfg_t.family) */
  uint64_t remote[2]; /* (ipv4 << 16) | port, RTP and RTCP; written by JS, read by the shard (atomic) */
  uint32_t holders;   /* shards still holding sockets of this call (steered: all; else 1) */
  uint8_t steered;    /* its ports are in the engine's sk_reuseport groups (e->steer) */
  /* Source filter (cc_call_filter): JS writes filter_cfg / filter_remote, then pushes a ctl
   * op (the ctl mutex orders them); the owner shard alone runs `filter` and counts `drops`. */
  uint8_t filtering;            /* owner shard only */
  cc_src_filter_cfg_t filter_cfg;
  cc_src_filter_t filter;
  uint32_t drops[3];            /* wrong source, stale SSRC, unknown PT: shard writes, JS reads (relaxed) */
};

/* A steered call's sockets on a shard that does not own it (one per shard in every port's
 * reuseport group: the steering program picks the owner's; these only see datagrams the
 * program could not place). Shard-only, like cc_call.fd/armed for the owner. */
struct cc_peer_socks {
  int fd[2];
  uint8_t armed[2];
  uint8_t held; /* sockets assigned and not yet closed by this shard */
};

struct cc_ctl {
  uint32_t op;
  uint32_t index;
  uint32_t a, b, c; /* CC_CTL_FILTER_REMOTE: -, port, rtcp port; CC_CTL_FILTER_PT: audio, event */
  uint8_t addr[16]; /* CC_CTL_FILTER_REMOTE: the address (IPv6, or IPv4-mapped) */
};

struct cc_shard {
  cc_engine_t *e;
  uint32_t index;
  pthread_t thread;
  int started;
  cc_ring_hdr_t *rx; /* producer: this shard; consumer: JS */
  cc_ring_hdr_t *tx; /* producer: JS; consumer: this shard */
  uint32_t rx_seq;   /* shard: next RX seq to write */
  uint32_t tx_seq;   /* shard: next TX seq to read */
  int kick_fd;       /* eventfd: JS → shard wake-up */
  pthread_mutex_t ctl_lock;
  struct cc_ctl ctl[CC_CTL_MAX];
  uint32_t ctl_n;
  uint32_t ctl_done; /* futex word: bumped after the shard applied a control batch */
  uint64_t stats[CC_ST_COUNT]; /* shard writes (relaxed), JS reads */
  void *impl;        /* the engine kind's per-shard state */
};

struct cc_engine {
  int kind;
  const struct cc_engine_ops *ops;
  cc_engine_cfg_t cfg;
  uint32_t nshards;
  struct cc_shard *shards;
  uint32_t doorbell;     /* futex word: bumped when any shard published RX records */
  uint32_t bell_waiters;
  uint32_t stopping;
  int running;
  int stopped;
  pthread_mutex_t lock; /* JS-thread setup path only (calls table, ports) */
  struct cc_call *calls;
  uint16_t next_gen;
  uint32_t port_cursor;
  uint8_t ports_held[65536 / 8];
  struct cc_steer *steer;         /* sk_reuseport steering (cc_engine_steer), or NULL */
  uint16_t steer_min, steer_max;  /* its port range, inclusive */
  struct cc_peer_socks *peers;    /* steered: CC_MAX_CALLS * nshards, [index * nshards + shard] */
  uint32_t freed_bell;            /* futex word: bumped when a call's last holder freed it */
};

/* The socket set of call `index` on shard `shard`: the owner's lives in the call itself. */
static inline int *cc_call_fds(cc_engine_t *e, struct cc_call *c, uint32_t index, uint32_t shard) {
  return shard == c->shard ? c->fd : e->peers[(size_t)index * e->nshards + shard].fd;
}
static inline uint8_t *cc_call_armed(cc_engine_t *e, struct cc_call *c, uint32_t index, uint32_t shard) {
  return shard == c->shard ? c->armed : e->peers[(size_t)index * e->nshards + shard].armed;
}

/* Shared helpers for the engine kinds. */
void cc_engine_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cc_engine_ring_doorbell(cc_engine_t *e);
/* Shard side: take the pending control ops (returns how many, copies into out). */
uint32_t cc_shard_take_ctl(struct cc_shard *s, struct cc_ctl *out, uint32_t max);
/* Shard side: a call's sockets are closed: free its slot and tell the waiting closer. */
void cc_shard_call_freed(struct cc_shard *s, struct cc_call *c);
/* Shard side (uring): this shard closed its sockets of the call; the last holder frees it. */
void cc_shard_call_released(struct cc_shard *s, struct cc_call *c);
void cc_shard_ctl_done(struct cc_shard *s);
static inline uint64_t cc_now_us(void);

#include <time.h>
static inline uint64_t cc_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

extern const struct cc_engine_ops cc_uring_ops;

#endif
