/* bpf/cc_bpf.h: what the BPF programs share with their user-space loaders (ffi/xdp/): map
   value layouts and stat indices. Included by both sides; fixed-width types only, no kernel
   or libc headers, layouts pinned by static asserts. */
#ifndef CC_BPF_H
#define CC_BPF_H

#ifdef __bpf__
#include <linux/types.h>
typedef __u8 cc_u8;
typedef __u16 cc_u16;
typedef __u32 cc_u32;
#else
#include <stdint.h>
typedef uint8_t cc_u8;
typedef uint16_t cc_u16;
typedef uint32_t cc_u32;
#endif

/* xdp_rtp.bpf.c's one-entry `cc_xdp_cfg` ARRAY map. An IPv4/UDP datagram is redirected to
   the XSK of its RX queue when its destination port is in [port_min, port_max] (host order),
   is marked open in the `cc_xdp_ports` ARRAY (key: port, value != 0), and, when local_ip != 0, its destination address equals local_ip (network order).
   port_min > port_max (the zeroed map before setup) redirects nothing. */
struct cc_xdp_cfg {
  cc_u32 local_ip;
  cc_u16 port_min;
  cc_u16 port_max;
};

/* xdp_rtp.bpf.c's PERCPU_ARRAY `cc_xdp_stats` indices. */
#define CC_XDP_STAT_REDIRECTED 0 /* handed to an XSK */
#define CC_XDP_STAT_PASSED 1     /* not ours (not IPv4/UDP, port out of range): kernel */
#define CC_XDP_STAT_NO_XSK 2     /* ours, but no XSK on this queue: kernel (XDP_PASS) */
#define CC_XDP_STAT_N 3

/* steer.bpf.c's one-entry `cc_steer_cfg` ARRAY map: the socket of (local port p, shard s)
   sits in `cc_steer_socks` at index (p - port_min) * nshards + s. */
struct cc_steer_cfg {
  cc_u16 port_min;
  cc_u16 nports;
  cc_u32 nshards;
};

/* steer.bpf.c's `cc_steer_flows` HASH key: a remote (IPv4 network order, port host order)
   sending to a local port (host order). */
struct cc_steer_flow {
  cc_u32 remote_ip;
  cc_u16 remote_port;
  cc_u16 local_port;
};

/* steer.bpf.c's PERCPU_ARRAY `cc_steer_stats` indices. */
#define CC_STEER_STAT_FLOW 0    /* steered by a flow entry */
#define CC_STEER_STAT_PORT 1    /* steered by a port entry */
#define CC_STEER_STAT_DEFAULT 2 /* no entry: the kernel's reuseport hash */
#define CC_STEER_STAT_MISS 3    /* an entry named a shard with no socket: default hash */
#define CC_STEER_STAT_N 4

#define CC_STEER_MAX_SOCKS 65536u
#define CC_STEER_MAX_FLOWS 65536u
#define CC_XDP_MAX_QUEUES 64u

_Static_assert(sizeof(struct cc_xdp_cfg) == 8, "cc_xdp_cfg is 8 bytes");
_Static_assert(sizeof(struct cc_steer_cfg) == 8, "cc_steer_cfg is 8 bytes");
_Static_assert(sizeof(struct cc_steer_flow) == 8, "cc_steer_flow is 8 bytes");

#endif
