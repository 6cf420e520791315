/*
 * xdp_engine.c: the AF_XDP RTP engine (cc_xdp_ops, engine kind CC_ENGINE_XDP). Same shards,
 * rings, calls and control queue as the io_uring engine (ffi/engine, written by "native"):
 * only the packet I/O differs, so JS sees the same records from either.
 *
 * Per engine (struct xdp_common, owned by shard 0's setup):
 *   - bpf/xdp_rtp.bpf.o attached to cfg.ifname (native/driver mode, else generic/SKB mode);
 *     its cc_xdp_ports map marks the ports calls have open, so only those are redirected;
 *   - a port table: UDP port → call slot + socket (RTP/RTCP), read by every shard (a datagram
 *     arrives on whatever queue RSS picked, and only that queue's XSK can receive it).
 * Per shard = per NIC queue (cfg.queue + shard index):
 *   - one UMEM of CC_XDP_FRAMES frames of CC_XDP_FRAME_SZ bytes: the first half feeds the
 *     FILL ring (receive), the second half is the TX frame pool;
 *   - one XSK bound to that queue, zero-copy when the driver has it, else copy mode (veth and
 *     lo only have copy mode), with need_wakeup;
 *   - a small neighbour cache (IPv4 → MAC) learned from received frames.
 *
 * Receive: RX ring → Ethernet/IPv4/UDP parse (ffi/pkt; IP checksum verified, the UDP one is
 * not: a veth or loopback sender leaves it to offload) → port table → cc_rtp_classify →
 * RX record (payload copied) → the frame goes straight back to the FILL ring.
 * Send: TX ring record → the call's (or record's) remote → a free UMEM frame, the payload
 * copied behind headers built with both checksums (a frame sent through AF_XDP gets no
 * offload) → XSK TX ring, one kick per batch; completions return frames to the pool. A remote
 * whose MAC is not known yet (nothing received from it) is sent through the call's kernel
 * socket instead, which also makes the kernel resolve it (ARP).
 *
 * On lo (a same-host peer: the sipp suite) the receive side is AF_XDP and sends go through the
 * call's kernel socket: see tx_batch.
 *
 * The kernel sockets engine.c binds for every call stay open: they hold the port against other
 * users and carry that fallback. What the XDP program passes on (fragments, IP options) lands
 * in them and is not read (bounded by the socket buffer).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include "../../bpf/cc_bpf.h"
#include "../engine/engine_impl.h"
#include "../pkt/rtp.h"
#include "../pkt/udp4.h"
#include "bpf_obj.h"

#define CC_XDP_FRAMES 4096u
#define CC_XDP_FRAME_SZ 2048u
#define CC_XDP_RX_FRAMES (CC_XDP_FRAMES / 2u)
#define CC_XDP_RING 2048u
#define CC_XDP_BATCH 64u
#define CC_XDP_NEIGH 256u /* per shard, power of two */

_Static_assert(CC_XDP_RX_FRAMES <= CC_XDP_RING, "the FILL ring holds every RX frame");
_Static_assert(CC_UDP4_PAYLOAD_OFF + 1500u <= CC_XDP_FRAME_SZ, "an MTU-sized frame fits");

/* Port table entry: 0 = no call; else (call slot + 1) | (socket << 31). */
#define PORT_SOCK_BIT 0x80000000u

struct xdp_common {
  int refs;
  int ifindex;
  char ifname[IF_NAMESIZE];
  int loopback;
  uint32_t if_ip;   /* first IPv4 of the interface, network order (0 if none) */
  uint8_t if_mac[6];
  struct bpf_object *obj;
  int xsks_fd, ports_fd;
  uint32_t attach_flags; /* XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE */
  int link_fd;           /* the XDP attachment: closing it (or the process dying) detaches */
  int zerocopy;
  uint32_t port_call[65536];        /* see PORT_SOCK_BIT; written by the call's shard (atomics) */
  uint32_t call_ip[CC_MAX_CALLS];   /* a call's local IPv4 (network order), set on ADD */
};

struct neigh {
  uint32_t ip;
  uint8_t mac[6];
  uint8_t valid;
};

struct xdp_shard {
  struct xdp_common *c;
  uint32_t queue;
  void *area;
  struct xsk_umem *umem;
  struct xsk_ring_prod fq;
  struct xsk_ring_cons cq;
  struct xsk_socket *xsk;
  struct xsk_ring_cons rx;
  struct xsk_ring_prod tx;
  int xsk_fd;
  uint64_t pool[CC_XDP_FRAMES / 2u]; /* free TX frame addresses */
  uint32_t npool;
  uint32_t tx_outstanding; /* frames submitted, not yet completed */
  uint16_t ip_id;
  struct neigh neigh[CC_XDP_NEIGH];
};

static const char *cfg_ifname(const cc_engine_cfg_t *cfg) {
  return cfg->ifname ? (const char *)(uintptr_t)cfg->ifname : NULL;
}

static int interface_facts(const char *ifname, struct xdp_common *c) {
  c->ifindex = (int)if_nametoindex(ifname);
  if (!c->ifindex) {
    cc_engine_set_error("xdp: no interface %s: %s", ifname, strerror(errno));
    return CC_ENOSUPPORT;
  }
  snprintf(c->ifname, sizeof c->ifname, "%s", ifname);
  struct ifaddrs *list, *a;
  if (getifaddrs(&list) == 0) {
    for (a = list; a; a = a->ifa_next) {
      if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || strcmp(a->ifa_name, ifname)) continue;
      c->if_ip = ((struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr;
      c->loopback = (a->ifa_flags & IFF_LOOPBACK) != 0;
      break;
    }
    freeifaddrs(list);
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0) memcpy(c->if_mac, ifr.ifr_hwaddr.sa_data, 6);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) c->loopback = (ifr.ifr_flags & IFF_LOOPBACK) != 0;
    close(fd);
  }
  return CC_OK;
}

static int xdp_probe(const cc_engine_cfg_t *cfg) {
  const char *ifname = cfg_ifname(cfg);
  if (!ifname || !*ifname) {
    cc_engine_set_error("xdp: no interface configured (the engine needs the NIC the RTP arrives on)");
    return CC_ENOSUPPORT;
  }
  if (!if_nametoindex(ifname)) {
    cc_engine_set_error("xdp: no interface %s", ifname);
    return CC_ENOSUPPORT;
  }
  int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    cc_engine_set_error("xdp: cannot open an AF_XDP socket: %s%s", strerror(errno),
                        errno == EPERM ? " (needs CAP_NET_RAW + CAP_BPF, i.e. root)" : "");
    return CC_ENOSUPPORT;
  }
  close(fd);
  char path[512];
  if (cc_bpf_obj_path("xdp_rtp.bpf.o", path, sizeof path)) {
    cc_engine_set_error("xdp: %s", cc_xdp_last_error());
    return CC_ENOSUPPORT;
  }
  return CC_OK;
}

static void common_release(struct xdp_common *c) {
  if (!c || --c->refs > 0) return;
  if (c->link_fd > 0) close(c->link_fd);
  if (c->obj) bpf_object__close(c->obj);
  free(c);
}

static int common_open(cc_engine_t *e, struct xdp_common **out) {
  struct xdp_common *c = calloc(1, sizeof *c);
  if (!c) return CC_ENOMEM;
  c->refs = 1;
  int rc = interface_facts(cfg_ifname(&e->cfg), c);
  if (rc) goto fail;
  rc = cc_bpf_obj_load("xdp_rtp.bpf.o", &c->obj);
  if (rc) {
    cc_engine_set_error("xdp: %s", cc_xdp_last_error());
    rc = CC_ENOSUPPORT;
    goto fail;
  }
  struct bpf_program *prog = bpf_object__find_program_by_name(c->obj, "cc_xdp_rtp");
  struct bpf_map *xsks = bpf_object__find_map_by_name(c->obj, "cc_xsks");
  struct bpf_map *ports = bpf_object__find_map_by_name(c->obj, "cc_xdp_ports");
  struct bpf_map *cfgm = bpf_object__find_map_by_name(c->obj, "cc_xdp_cfg");
  if (!prog || !xsks || !ports || !cfgm) {
    cc_engine_set_error("xdp: xdp_rtp.bpf.o lacks its program or maps");
    rc = CC_ENOSUPPORT;
    goto fail;
  }
  c->xsks_fd = bpf_map__fd(xsks);
  c->ports_fd = bpf_map__fd(ports);
  /* Every port is a candidate; cc_xdp_ports narrows it to the calls' ports. */
  struct cc_xdp_cfg xcfg = {.local_ip = 0, .port_min = 1024, .port_max = 65535};
  uint32_t zero = 0;
  if (bpf_map_update_elem(bpf_map__fd(cfgm), &zero, &xcfg, BPF_ANY)) {
    rc = -errno;
    cc_engine_set_error("xdp: cannot configure the XDP program: %s", strerror(errno));
    goto fail;
  }
  int prog_fd = bpf_program__fd(prog);
  uint32_t modes[2] = {XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE};
  int err = 0;
  /* The native-mode refusal on drivers without it is expected: keep libbpf from printing it. */
  libbpf_print_fn_t previous = libbpf_set_print(NULL);
  /* A BPF link, not a netlink attachment: it belongs to this process's fd, so a process that
     dies without cleaning up cannot leave the program attached (and the interface refusing
     every later engine). */
  for (int i = 0; i < 2; i++) {
    LIBBPF_OPTS(bpf_link_create_opts, lopts, .flags = modes[i]);
    int fd = bpf_link_create(prog_fd, c->ifindex, BPF_XDP, &lopts);
    if (fd >= 0) {
      c->link_fd = fd;
      c->attach_flags = modes[i];
      break;
    }
    err = -errno;
    if (err == -EBUSY || err == -EEXIST) break; /* another program owns the interface */
  }
  libbpf_set_print(previous);
  if (!c->attach_flags) {
    cc_engine_set_error("xdp: cannot attach the XDP program to %s: %s%s", c->ifname, strerror(-err),
                        err == -EBUSY || err == -EEXIST ? " (another XDP program is attached)" : "");
    rc = CC_ENOSUPPORT;
    goto fail;
  }
  *out = c;
  return CC_OK;
fail:
  common_release(c);
  return rc;
}

static int xdp_shard_init(cc_engine_t *e, uint32_t index) {
  struct xdp_shard *x = calloc(1, sizeof *x);
  if (!x) return CC_ENOMEM;
  int rc;
  if (index == 0) {
    rc = common_open(e, &x->c);
    if (rc) {
      free(x);
      return rc;
    }
  } else {
    x->c = ((struct xdp_shard *)e->shards[0].impl)->c;
    x->c->refs++;
  }
  e->shards[index].impl = x;
  x->queue = e->cfg.queue + index;
  size_t size = (size_t)CC_XDP_FRAMES * CC_XDP_FRAME_SZ;
  x->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (x->area == MAP_FAILED) {
    x->area = NULL;
    cc_engine_set_error("xdp: cannot map a %zu-byte UMEM", size);
    return CC_ENOMEM;
  }
  struct xsk_umem_config ucfg = {.fill_size = CC_XDP_RING, .comp_size = CC_XDP_RING,
                                 .frame_size = CC_XDP_FRAME_SZ, .frame_headroom = 0, .flags = 0};
  rc = xsk_umem__create(&x->umem, x->area, size, &x->fq, &x->cq, &ucfg);
  if (rc) {
    cc_engine_set_error("xdp: xsk_umem__create: %s%s", strerror(-rc),
                        rc == -ENOMEM || rc == -EPERM ? " (locked-memory limit, ulimit -l)" : "");
    return CC_ENOSUPPORT;
  }
  struct xsk_socket_config scfg = {.rx_size = CC_XDP_RING, .tx_size = CC_XDP_RING,
                                   .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
                                   .xdp_flags = x->c->attach_flags,
                                   .bind_flags = XDP_USE_NEED_WAKEUP | XDP_ZEROCOPY};
  rc = xsk_socket__create(&x->xsk, x->c->ifname, x->queue, x->umem, &x->rx, &x->tx, &scfg);
  if (rc) {
    /* No zero-copy in this driver (veth, lo, generic mode): copy mode. */
    scfg.bind_flags = XDP_USE_NEED_WAKEUP | XDP_COPY;
    rc = xsk_socket__create(&x->xsk, x->c->ifname, x->queue, x->umem, &x->rx, &x->tx, &scfg);
  } else if (index == 0) {
    x->c->zerocopy = 1;
  }
  if (rc) {
    x->xsk = NULL;
    cc_engine_set_error("xdp: cannot bind an AF_XDP socket to %s queue %u: %s", x->c->ifname,
                        x->queue, strerror(-rc));
    return CC_ENOSUPPORT;
  }
  x->xsk_fd = xsk_socket__fd(x->xsk);
  if (bpf_map_update_elem(x->c->xsks_fd, &x->queue, &x->xsk_fd, BPF_ANY)) {
    rc = -errno;
    cc_engine_set_error("xdp: cannot put the XSK of queue %u in the XSKMAP: %s", x->queue,
                        strerror(errno));
    return rc;
  }
  /* The RX half of the UMEM goes to the FILL ring; the other half is the TX pool. */
  uint32_t idx;
  if (xsk_ring_prod__reserve(&x->fq, CC_XDP_RX_FRAMES, &idx) != CC_XDP_RX_FRAMES) {
    cc_engine_set_error("xdp: cannot fill the FILL ring");
    return CC_ENOMEM;
  }
  for (uint32_t i = 0; i < CC_XDP_RX_FRAMES; i++) {
    *xsk_ring_prod__fill_addr(&x->fq, idx + i) = (uint64_t)i * CC_XDP_FRAME_SZ;
  }
  xsk_ring_prod__submit(&x->fq, CC_XDP_RX_FRAMES);
  for (uint32_t i = 0; i < CC_XDP_FRAMES - CC_XDP_RX_FRAMES; i++) {
    x->pool[x->npool++] = (uint64_t)(CC_XDP_RX_FRAMES + i) * CC_XDP_FRAME_SZ;
  }
  return CC_OK;
}

static void xdp_shard_fini(cc_engine_t *e, uint32_t index) {
  struct xdp_shard *x = e->shards[index].impl;
  if (!x) return;
  if (x->xsk) {
    if (x->c) bpf_map_delete_elem(x->c->xsks_fd, &x->queue);
    xsk_socket__delete(x->xsk);
  }
  if (x->umem) xsk_umem__delete(x->umem);
  if (x->area) munmap(x->area, (size_t)CC_XDP_FRAMES * CC_XDP_FRAME_SZ);
  common_release(x->c);
  free(x);
  e->shards[index].impl = NULL;
}

/* ---- control: a call's ports enter and leave the port table and the XDP port map ---- */

static void mark_port(struct xdp_common *c, uint16_t port, uint32_t value) {
  __atomic_store_n(&c->port_call[port], value, __ATOMIC_RELEASE);
  uint32_t key = port, open = value ? 1u : 0u;
  /* Setup-time syscall; it cannot fail for an in-range key of an ARRAY map. */
  (void)bpf_map_update_elem(c->ports_fd, &key, &open, BPF_ANY);
}

static uint32_t tx_batch(struct cc_shard *s, struct xdp_shard *x);
static void drain_kernel(struct cc_shard *s, struct cc_call *c);

static void apply_ctl(struct cc_shard *s, struct xdp_shard *x) {
  struct cc_ctl ops[64];
  uint32_t n, total = 0;
  while ((n = cc_shard_take_ctl(s, ops, 64)) > 0) {
    int drained = 0;
    for (uint32_t i = 0; i < n; i++) {
      uint32_t index = ops[i].index;
      struct cc_call *c = &s->e->calls[index];
      if (ops[i].op == CC_CTL_ADD) {
        uint32_t expected = CC_CALL_OPENING;
        if (__atomic_compare_exchange_n(&c->state, &expected, CC_CALL_LIVE, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
          struct sockaddr_in sa;
          socklen_t len = sizeof sa;
          uint32_t ip = 0;
          if (getsockname(c->fd[0], (struct sockaddr *)&sa, &len) == 0) ip = sa.sin_addr.s_addr;
          x->c->call_ip[index] = ip ? ip : x->c->if_ip;
          mark_port(x->c, c->port, index + 1u);
          if (c->fd[1] >= 0) mark_port(x->c, (uint16_t)(c->port + 1u), (index + 1u) | PORT_SOCK_BIT);
          drain_kernel(s, c); /* what came in before the port was marked */
        }
      } else if (ops[i].op == CC_CTL_CLOSE) {
        if (!drained) {
          /* What JS wrote before a close (the session's RTCP BYE) goes out first, while the
             call is still live (taking the ctl ops under their mutex made those TX records
             visible). After the ADDs before it: a call opened and written to in one batch. */
          while (tx_batch(s, x) == CC_XDP_BATCH) {
          }
          drained = 1;
        }
        mark_port(x->c, c->port, 0);
        if (c->fd[1] >= 0) mark_port(x->c, (uint16_t)(c->port + 1u), 0);
        for (int k = 0; k < 2; k++) {
          if (c->fd[k] >= 0) close(c->fd[k]);
          c->fd[k] = -1;
        }
        cc_shard_call_freed(s, c);
      }
    }
    total += n;
  }
  if (total) cc_shard_ctl_done(s);
}

/* ---- neighbours ---- */

static inline struct neigh *neigh_slot(struct xdp_shard *x, uint32_t ip) {
  uint32_t h = ip * 2654435761u;
  return &x->neigh[(h >> 24) & (CC_XDP_NEIGH - 1u)];
}

static inline void neigh_learn(struct xdp_shard *x, uint32_t ip, const uint8_t mac[6]) {
  struct neigh *n = neigh_slot(x, ip);
  if (n->valid && n->ip == ip && memcmp(n->mac, mac, 6) == 0) return;
  n->ip = ip;
  memcpy(n->mac, mac, 6);
  n->valid = 1;
}

static inline const uint8_t *neigh_find(struct xdp_shard *x, uint32_t ip) {
  struct neigh *n = neigh_slot(x, ip);
  return n->valid && n->ip == ip ? n->mac : NULL;
}

/* One received datagram of call `c` into the RX ring (payload copied). */
static void publish_rx(struct cc_shard *s, struct cc_call *c, int rtcp_sock, const uint8_t *payload,
                       uint32_t len, uint32_t src_ip, uint16_t src_port, uint64_t now) {
  int kind = cc_rtp_classify(payload, len, NULL);
  /* A well-formed datagram with malformed RTP is counted here and still handed over,
     flagged, as the io_uring engine does: the session's own counters must read the same on
     every engine. (A broken frame never was a datagram: rx_batch drops it.) */
  if (kind == CC_PKT_MALFORMED) s->stats[CC_ST_RX_MALFORMED]++;
  cc_rec_t *r = cc_ring_claim(s->rx, s->rx_seq);
  if (!r) {
    s->rx->drops++; /* JS is behind: drop the newest, never overwrite unread audio */
    return;
  }
  memcpy(cc_ring_dcache(s->rx) + r->chunk, payload, len);
  r->call = c->id;
  r->sz = (uint16_t)len;
  /* As the io_uring engine: the socket decides the kind, the bytes set the flags. */
  r->kind = (uint8_t)(rtcp_sock ? CC_KIND_RTCP : CC_KIND_RTP);
  r->flags = (uint8_t)(kind == CC_PKT_RTCP ? CC_RX_RTCP : kind == CC_PKT_MALFORMED ? CC_RX_MALFORMED : 0u);
  r->port = src_port;
  r->family = 4;
  r->ts_us_lo = (uint32_t)now;
  r->ts_us_hi = (uint32_t)(now >> 32);
  memset(r->addr, 0, sizeof r->addr);
  memcpy(r->addr, &src_ip, 4);
  cc_ring_publish(r, s->rx_seq);
  s->rx_seq++;
  s->stats[CC_ST_RX_PKTS]++;
  s->stats[CC_ST_RX_BYTES] += len;
}

/* Datagrams that reached a call's kernel socket instead of the XSK: those that arrived before
   the shard marked the port (between bind and here) and what the XDP program passes on
   (fragments, IP options). Read without blocking, published like the others. */
static void drain_kernel(struct cc_shard *s, struct cc_call *c) {
  uint8_t buf[CC_XDP_FRAME_SZ];
  for (int k = 0; k < 2; k++) {
    if (c->fd[k] < 0) continue;
    for (int i = 0; i < 256; i++) {
      struct sockaddr_in from;
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom(c->fd[k], buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fl);
      if (n < 0) break; /* EAGAIN: empty */
      if ((size_t)n > sizeof buf || fl < sizeof from) {
        s->stats[CC_ST_RX_MALFORMED]++;
        continue;
      }
      publish_rx(s, c, k == 1, buf, (uint32_t)n, from.sin_addr.s_addr, ntohs(from.sin_port),
                 cc_now_us());
    }
  }
}

/* ---- receive ---- */

static uint32_t rx_batch(struct cc_shard *s, struct xdp_shard *x) {
  uint32_t idx_rx, idx_fq;
  uint32_t n = xsk_ring_cons__peek(&x->rx, CC_XDP_BATCH, &idx_rx);
  if (!n) return 0;
  /* Every RX frame returns to FILL; the FILL ring has room for all of them by construction. */
  while (xsk_ring_prod__reserve(&x->fq, n, &idx_fq) != n) {
  }
  uint64_t now = cc_now_us();
  for (uint32_t i = 0; i < n; i++) {
    const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx_rx + i);
    uint64_t addr = xsk_umem__add_offset_to_addr(d->addr);
    const uint8_t *frame = xsk_umem__get_data(x->area, addr);
    *xsk_ring_prod__fill_addr(&x->fq, idx_fq + i) = xsk_umem__extract_addr(d->addr);
    cc_udp4_view_t v;
    if (cc_pkt_udp4_parse(frame, d->len, CC_PKT_VERIFY_IP_CSUM, &v) != CC_PKT_OK) {
      s->stats[CC_ST_RX_MALFORMED]++;
      continue;
    }
    uint32_t entry = __atomic_load_n(&x->c->port_call[ntohs(v.dst_port)], __ATOMIC_ACQUIRE);
    struct cc_call *c = entry ? &s->e->calls[(entry & ~PORT_SOCK_BIT) - 1u] : NULL;
    if (!c || __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != CC_CALL_LIVE) {
      s->stats[CC_ST_RX_UNKNOWN_CALL]++;
      continue;
    }
    neigh_learn(x, v.src_ip, v.src_mac);
    publish_rx(s, c, (entry & PORT_SOCK_BIT) != 0, frame + v.payload_off, v.payload_len, v.src_ip,
               ntohs(v.src_port), now);
  }
  xsk_ring_prod__submit(&x->fq, n);
  xsk_ring_cons__release(&x->rx, n);
  return n;
}

/* ---- send ---- */

static void reclaim(struct xdp_shard *x) {
  uint32_t idx;
  uint32_t n = xsk_ring_cons__peek(&x->cq, CC_XDP_RING, &idx);
  for (uint32_t i = 0; i < n; i++) x->pool[x->npool++] = *xsk_ring_cons__comp_addr(&x->cq, idx + i);
  if (n) {
    xsk_ring_cons__release(&x->cq, n);
    x->tx_outstanding -= n;
  }
}

/* The kernel's copy-mode transmit sends at most 32 frames per sendto (TX_BATCH_SIZE in
   net/xdp/xsk.c): one kick per 32 queued frames. */
#define CC_XDP_KERNEL_TX_BATCH 32u

static void kick_tx(struct xdp_shard *x, uint32_t queued) {
  /* Copy mode always needs the syscall; zero-copy only when the driver asks for it. */
  if (x->c->zerocopy && !xsk_ring_prod__needs_wakeup(&x->tx)) return;
  uint32_t kicks = queued ? (queued + CC_XDP_KERNEL_TX_BATCH - 1u) / CC_XDP_KERNEL_TX_BATCH : 1u;
  for (uint32_t i = 0; i < kicks; i++) {
    /* EAGAIN/EBUSY/ENOBUFS: the kernel is still sending; the next kick retries, and frames
       stay outstanding (not lost) until their completion arrives. */
    if (sendto(x->xsk_fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0) break;
  }
}

static uint32_t tx_batch(struct cc_shard *s, struct xdp_shard *x) {
  reclaim(x);
  uint32_t done = 0, queued = 0, idx_tx = 0;
  cc_rec_t *r;
  while (done < CC_XDP_BATCH && (r = cc_ring_peek(s->tx, s->tx_seq))) {
    uint32_t index = r->call & 0xffffu;
    struct cc_call *c = index < CC_MAX_CALLS ? &s->e->calls[index] : NULL;
    uint32_t sock = r->kind == CC_KIND_RTCP ? 1u : 0u;
    /* Any state but FREE: the sockets stay open until this thread closes them (apply_ctl), so
       a record written just before the call's close (its RTCP BYE) or right after its open
       still leaves — through the kernel socket while the call is not LIVE here (its local
       address is learnt at ADD). */
    uint32_t st = c && c->id == r->call ? __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) : CC_CALL_FREE;
    if (st == CC_CALL_FREE) {
      s->stats[CC_ST_TX_ERRORS]++;
      goto next;
    }
    uint32_t dst_ip;
    uint16_t dst_port;
    if (r->family == 0) {
      uint64_t rem = __atomic_load_n(&c->remote[sock], __ATOMIC_ACQUIRE);
      dst_port = (uint16_t)rem;
      dst_ip = (uint32_t)(rem >> 16);
    } else {
      dst_port = r->port;
      memcpy(&dst_ip, r->addr, 4);
    }
    if (!dst_port) {
      s->stats[CC_ST_TX_NO_REMOTE]++;
      goto next;
    }
    const uint8_t *payload = cc_ring_dcache(s->tx) + r->chunk;
    const uint8_t *mac = neigh_find(x, dst_ip);
    /* rtcp-mux: RTCP leaves from the RTP port, as in the io_uring engine. */
    uint16_t src_port = (uint16_t)(c->port + (sock && c->fd[1] >= 0 ? 1u : 0u));
    if (!mac || x->c->loopback || st != CC_CALL_LIVE || x->npool == 0 ||
        r->sz > CC_XDP_FRAME_SZ - CC_UDP4_PAYLOAD_OFF) {
      /* Unknown neighbour (or no frame free): the kernel path, which also resolves it. On lo
         every send takes it: copy-mode XSK TX on loopback is accepted and completed by the
         kernel (6.18) but the frame never reaches lo's receive path (not even its tap), so
         on lo only the receive side bypasses the stack. */
      int fd = c->fd[sock] >= 0 ? c->fd[sock] : c->fd[0];
      struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(dst_port)};
      to.sin_addr.s_addr = dst_ip;
      if (sendto(fd, payload, r->sz, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to) < 0) {
        s->stats[CC_ST_TX_ERRORS]++;
      } else {
        s->stats[CC_ST_TX_PKTS]++;
        s->stats[CC_ST_TX_BYTES] += r->sz;
      }
      goto next;
    }
    if (xsk_ring_prod__reserve(&x->tx, 1, &idx_tx) != 1) {
      kick_tx(x, queued);
      break; /* XSK TX ring full: this record goes out next round */
    }
    uint64_t addr = x->pool[--x->npool];
    uint8_t *frame = xsk_umem__get_data(x->area, addr);
    cc_udp4_addr_t a;
    memcpy(a.dst_mac, mac, 6);
    memcpy(a.src_mac, x->c->if_mac, 6);
    a.src_ip = x->c->call_ip[index];
    a.dst_ip = dst_ip;
    a.src_port = htons(src_port);
    a.dst_port = htons(dst_port);
    a.ip_id = x->ip_id++;
    a.ttl = 64;
    a.tos = 0xb8; /* DSCP EF, as voice is marked */
    memcpy(frame + CC_UDP4_PAYLOAD_OFF, payload, r->sz);
    int len = cc_pkt_udp4_build_headers(frame, CC_XDP_FRAME_SZ, &a, r->sz, 1);
    struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, idx_tx);
    d->addr = addr;
    d->len = (uint32_t)len;
    queued++;
    s->stats[CC_ST_TX_PKTS]++;
    s->stats[CC_ST_TX_BYTES] += r->sz;
    /* Submit one at a time (reserve/submit pairs): the batch still costs one kick. */
    xsk_ring_prod__submit(&x->tx, 1);
    x->tx_outstanding++;
  next:
    s->tx_seq++;
    done++;
  }
  if (done) cc_ring_release(s->tx, s->tx_seq); /* payloads were copied out */
  if (queued) kick_tx(x, queued);
  return done;
}

static void *xdp_shard_main(void *arg) {
  struct cc_shard *s = arg;
  cc_engine_t *e = s->e;
  struct xdp_shard *x = s->impl;
  struct pollfd pfd[2] = {{.fd = x->xsk_fd, .events = POLLIN}, {.fd = s->kick_fd, .events = POLLIN}};
  while (!__atomic_load_n(&e->stopping, __ATOMIC_ACQUIRE)) {
    apply_ctl(s, x);
    uint32_t rx_before = s->rx_seq;
    uint32_t work = rx_batch(s, x);
    work += tx_batch(s, x);
    if (s->rx_seq != rx_before) {
      s->stats[CC_ST_BATCHES]++;
      cc_ring_flush(s->rx, s->rx_seq);
      cc_engine_ring_doorbell(e);
    }
    if (work) continue;
    if (x->tx_outstanding) kick_tx(x, x->tx_outstanding); /* copy mode sends only when kicked */
    if (e->cfg.busy_poll_us) {
      uint64_t until = cc_now_us() + e->cfg.busy_poll_us;
      while (cc_now_us() < until && !xsk_ring_cons__peek(&x->rx, 1, &(uint32_t){0}) &&
             !cc_ring_peek(s->tx, s->tx_seq)) {
      }
      if (cc_ring_peek(s->tx, s->tx_seq) || xsk_ring_cons__peek(&x->rx, 1, &(uint32_t){0})) continue;
    }
    s->stats[CC_ST_WAKEUPS]++;
    /* Sleep until a frame arrives or JS kicks (TX records, control ops, stop). The timeout
       only bounds how late an outstanding copy-mode completion is reclaimed. */
    if (poll(pfd, 2, x->tx_outstanding ? 1 : 1000) > 0 && (pfd[1].revents & POLLIN)) {
      uint64_t v;
      if (read(s->kick_fd, &v, sizeof v) < 0 && errno != EAGAIN) break;
    }
  }
  apply_ctl(s, x);
  return NULL;
}

const struct cc_engine_ops cc_xdp_ops = {
    .name = "xdp",
    .probe = xdp_probe,
    .shard_init = xdp_shard_init,
    .shard_main = xdp_shard_main,
    .shard_fini = xdp_shard_fini,
};
