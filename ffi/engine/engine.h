/*
 * engine.h: the native RTP engines (io_uring in ffi/uring, AF_XDP in ffi/xdp) behind one API.
 *
 * An engine has N shards; each shard is one pinned thread owning its calls' sockets, an RX
 * ring (shard → JS) and a TX ring (JS → shard), both ffi/ring SPSC rings. JS (one thread)
 * is the single consumer of every RX ring and the single producer of every TX ring.
 *
 *   JS                     engine.c (shared)                  shard thread (uring.c / xdp)
 *   cc_call_open  ───────► bind sockets, pick shard ─ ctl ──► arm receive on the sockets
 *   cc_engine_wait ◄────── doorbell futex ◄──────────────────  RX batch published
 *   write TX recs, cc_engine_kick ─ eventfd ───────────────►   drain TX, send batch
 *   cc_call_close ───────► ctl, waits for the shard ─────────► cancel receive, close sockets
 *
 * Lifecycle: create → start → (calls) → stop → destroy. stop is idempotent; destroy after stop.
 * JS must not close the library while shard threads run or a cc_engine_wait is pending.
 */
#ifndef CC_ENGINE_H
#define CC_ENGINE_H

#include <stdint.h>
#include "../abi.h"

typedef struct cc_engine cc_engine_t;

/* Engine configuration (FFI: a 32-byte struct passed as a buffer). */
typedef struct cc_engine_cfg {
  uint32_t shards;       /* @0  threads; 0 = one per online CPU */
  uint32_t ring_depth;   /* @4  records per ring (power of two); 0 = 4096 */
  uint32_t busy_poll_us; /* @8  spin this long before sleeping; also SO_BUSY_POLL; 0 = off */
  int32_t first_cpu;     /* @12 pin shard i to CPU (first_cpu + i) % ncpu; -1 = no pinning */
  uint32_t flags;        /* @16 CC_ENGINE_F_* */
  uint32_t queue;        /* @20 (xdp) first NIC queue */
  uint64_t ifname;       /* @24 (xdp) const char * interface name, or 0 */
} cc_engine_cfg_t;
_Static_assert(sizeof(cc_engine_cfg_t) == 32, "engine cfg is 32 bytes");

#define CC_ENGINE_F_REUSEPORT 1u /* bind call sockets with SO_REUSEPORT (sk_reuseport steering) */
/* flags bits 16..31: the shard's batch tick, µs (0 = off). After an iteration that received
 * packets, the shard sleeps this long before waiting again, so the next wake-up finds a batch
 * (one io_uring_enter for many packets) instead of one packet: trades ≤ that much latency for
 * fewer wake-ups. */
#define CC_ENGINE_BATCH_US(flags) ((uint32_t)(flags) >> 16)

/* One call's sockets (FFI: a 32-byte struct passed as a buffer). family 6 binds IPv6 sockets
 * on addr6 (io_uring only), dual-stack: bound to :: they also take IPv4 peers, which the
 * shard reports (and filters) as plain IPv4, as an IPv4 socket would. */
typedef struct cc_call_cfg {
  uint32_t ipv4;     /* @0 local address, network order (0 = any); family 4 */
  uint16_t port_min; /* @4 */
  uint16_t port_max; /* @6 inclusive */
  uint8_t rtcp_mux;  /* @8 RTCP on the RTP port (else port + 1) */
  uint8_t family;    /* @9 4 (or 0) = IPv4 on ipv4; 6 = IPv6 on addr6 */
  uint8_t _r[2];
  uint16_t port;     /* @12 exact RTP port wanted (0 = any even port in the range) */
  uint16_t _r2;
  uint8_t addr6[16]; /* @16 local IPv6 address, network order (:: = any); family 6 */
} cc_call_cfg_t;
_Static_assert(sizeof(cc_call_cfg_t) == 32, "call cfg is 32 bytes");

/* What one engine kind implements (engine.c owns the shared parts: rings, doorbell, calls). */
struct cc_engine_ops {
  const char *name;
  int (*probe)(const cc_engine_cfg_t *cfg); /* can it run here? CC_ENOSUPPORT + last_error */
  int (*shard_init)(cc_engine_t *e, uint32_t shard);
  void *(*shard_main)(void *shard); /* thread body: runs until the engine stops */
  void (*shard_fini)(cc_engine_t *e, uint32_t shard);
};

int cc_engine_probe(int kind, const cc_engine_cfg_t *cfg);
int cc_engine_create(int kind, const cc_engine_cfg_t *cfg, cc_engine_t **out);
int cc_engine_start(cc_engine_t *e);
int cc_engine_stop(cc_engine_t *e);
void cc_engine_destroy(cc_engine_t *e);
const char *cc_engine_last_error(void);
uint32_t cc_engine_shards(cc_engine_t *e);
void *cc_engine_rx_ring(cc_engine_t *e, uint32_t shard);
void *cc_engine_tx_ring(cc_engine_t *e, uint32_t shard);
/* Blocks until a shard published RX records after `seen` (the doorbell value JS saw last),
 * the timeout passes, or the engine stops. Returns the doorbell value (>= 0), or CC_ESTATE. */
int64_t cc_engine_wait(cc_engine_t *e, uint32_t seen, int32_t timeout_ms);
uint32_t cc_engine_doorbell(cc_engine_t *e);
int cc_engine_kick(cc_engine_t *e, uint32_t shard);
/* Rings the doorbell: a pending cc_engine_wait returns (JS stops its wait loop with it). */
int cc_engine_wake(cc_engine_t *e);
int cc_engine_stats(cc_engine_t *e, uint32_t shard, uint64_t *out16);

/* sk_reuseport steering for the io_uring engine (bpf/steer.bpf.c via ffi/xdp/steer.h): every
 * call whose ports lie in [port_min, port_max] is then bound by one SO_REUSEPORT socket per
 * shard, and the program delivers its datagrams (by destination port) to the socket of the
 * shard that owns the call. Call before opening calls (once; again returns CC_ESTATE).
 * CC_ENOSUPPORT with the reason in cc_engine_last_error() when it cannot (one shard, not
 * io_uring, the BPF object missing or not loadable, the range too wide): calls are then bound
 * with one socket each, on their shard, as without it. */
int cc_engine_steer(cc_engine_t *e, uint16_t port_min, uint16_t port_max);
/* The steering program's counters (bpf/cc_bpf.h CC_STEER_STAT_*, summed over CPUs). */
int cc_engine_steer_stats(cc_engine_t *e, uint64_t *out4);

int cc_call_open(cc_engine_t *e, const cc_call_cfg_t *cfg, uint32_t *out3 /* call, port, shard */);
int cc_call_remote(cc_engine_t *e, uint32_t call, uint32_t ipv4, uint16_t rtp_port, uint16_t rtcp_port);
int cc_call_close(cc_engine_t *e, uint32_t call);
/* Runs the session's source filter (ffi/pkt/src_filter.h) in the call's shard from now on:
 * RTP the session would drop (payload type, source, SSRC) never reaches the RX ring; what
 * does carries CC_RX_FILTERED and the decisions. Again with a filter running: only the
 * payload types change (a re-negotiation), the latch and SSRC state stay. */
int cc_call_filter(cc_engine_t *e, uint32_t call, const void *cfg16);
/* The far end from signalling, for the filter (SourceLatch.setRemote; rtcp_port 0x10000 =
 * none given): addr16 is an IPv6 address, or an IPv4 one IPv4-mapped (ffi/pkt/src_filter.h).
 * Applied by the shard before any datagram that arrives after this call. */
int cc_call_filter_remote(cc_engine_t *e, uint32_t call, const uint8_t *addr16, uint16_t port,
                          uint32_t rtcp_port);
/* What the call's filter dropped so far: out3 = wrong source, stale SSRC, unknown payload type. */
int cc_call_filter_drops(cc_engine_t *e, uint32_t call, uint32_t *out3);

/* Stats slots (cc_engine_stats). */
enum {
  CC_ST_RX_PKTS, CC_ST_RX_BYTES, CC_ST_RX_MALFORMED, CC_ST_RX_RING_FULL, CC_ST_RX_UNKNOWN_CALL,
  CC_ST_TX_PKTS, CC_ST_TX_BYTES, CC_ST_TX_ERRORS, CC_ST_TX_NO_REMOTE, CC_ST_WAKEUPS,
  CC_ST_BATCHES,
  CC_ST_RX_STRAY, /* steered: datagrams that reached a shard not owning their call (handed on) */
  CC_ST_RX_FILTERED, /* RTP the call's source filter dropped in the shard */
  CC_ST_COUNT
};

#endif
