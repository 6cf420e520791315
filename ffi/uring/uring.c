/*
 * uring.c: the io_uring RTP engine. One shard per core (engine.c pins the threads); each
 * shard owns one io_uring with
 *   - a provided-buffer ring (IORING_REGISTER_PBUF_RING, group 0) of CC_URING_BUFS buffers,
 *   - one multishot IORING_OP_RECVMSG per call socket (RTP, and RTCP unless muxed) picking
 *     buffers from that group, re-armed when it ends (ENOBUFS) while the call lives,
 *   - one read on its eventfd (JS kicks it after writing a TX batch or a control op),
 *   - IORING_OP_SENDMSG for every TX record, submitted as one batch per loop iteration.
 *
 * Per datagram: validate (cc_rtp_classify: RTP v2 bounds or RTCP; malformed ones are counted
 * and dropped here), stamp the arrival, copy it into the RX ring slot (the provided buffer is
 * returned at once), publish; one flush + doorbell per CQE batch, so JS wakes per batch.
 * The TX ring's records are released in order once their send completed (their payload is
 * the send's buffer until then: no copy on the way out).
 *
 * Busy-poll (cfg.busy_poll_us > 0): the loop spins on the CQ for that long before sleeping
 * in io_uring_enter, and sockets get SO_BUSY_POLL.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../engine/engine_impl.h"
#include "../pkt/rtp.h"

#define CC_URING_BUFS 1024u /* provided buffers per shard (power of two) */
#define CC_URING_BUF_SZ 2048u
#define CC_URING_BGID 0

enum { OP_RECV = 1, OP_SEND = 2, OP_KICK = 3, OP_CANCEL = 4 };
/* user_data: op in bits 0..7, socket (0 RTP / 1 RTCP) in bit 8, call index or TX slot above. */
static inline uint64_t ud(uint32_t op, uint32_t sock, uint32_t value) {
  return (uint64_t)op | ((uint64_t)sock << 8) | ((uint64_t)value << 16);
}

struct send_slot {
  struct msghdr msg;
  struct iovec iov;
  union {
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
  } to;
  uint8_t done;
};

/* A datagram's source as the filter and the RX record take it: addr16 IPv6, or IPv4-mapped
 * for IPv4 (from an IPv4 socket, or mapped already by a dual-stack one); *family 4 or 6 as
 * the record says it (a mapped address is IPv4). 0 when the name is not a full address. */
static inline int peer_of(const struct sockaddr *sa, uint32_t namelen, uint8_t addr16[16],
                          uint16_t *port, uint8_t *family) {
  if (sa->sa_family == AF_INET && namelen >= sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    cc_sf_addr_v4(addr16, in->sin_addr.s_addr);
    *port = ntohs(in->sin_port);
    *family = 4;
    return 1;
  }
  if (sa->sa_family == AF_INET6 && namelen >= sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *in = (const struct sockaddr_in6 *)sa;
    memcpy(addr16, &in->sin6_addr, 16);
    *port = ntohs(in->sin6_port);
    *family = IN6_IS_ADDR_V4MAPPED(&in->sin6_addr) ? 4 : 6;
    return 1;
  }
  return 0;
}

struct uring_shard {
  struct io_uring ring;
  struct io_uring_buf_ring *br;
  uint8_t *bufs;
  size_t br_bytes;
  struct msghdr recv_tmpl; /* multishot recvmsg: only msg_namelen matters */
  uint64_t kick_value;
  uint32_t tx_inflight_from; /* oldest TX seq not yet released */
  struct send_slot *slots;   /* one per TX ring record */
};

static int uring_probe(const cc_engine_cfg_t *cfg) {
  (void)cfg;
  struct io_uring ring;
  int rc = io_uring_queue_init(8, &ring, 0);
  if (rc < 0) {
    cc_engine_set_error("io_uring_queue_init: %s", strerror(-rc));
    return rc == -ENOSYS || rc == -EPERM ? CC_ENOSUPPORT : rc;
  }
  struct io_uring_probe *p = io_uring_get_probe_ring(&ring);
  int ok = p && io_uring_opcode_supported(p, IORING_OP_RECVMSG) && io_uring_opcode_supported(p, IORING_OP_SENDMSG);
  if (p) io_uring_free_probe(p);
  /* Multishot recvmsg with provided buffer rings needs Linux 6.0. */
  struct io_uring_buf_reg reg = {0};
  void *mem = NULL;
  if (ok && posix_memalign(&mem, 4096, 4096) == 0) {
    reg.ring_addr = (uintptr_t)mem;
    reg.ring_entries = 8;
    reg.bgid = 7;
    ok = io_uring_register_buf_ring(&ring, &reg, 0) == 0;
    if (ok) io_uring_unregister_buf_ring(&ring, 7);
  }
  free(mem);
  io_uring_queue_exit(&ring);
  if (!ok) {
    cc_engine_set_error("io_uring lacks RECVMSG/SENDMSG or provided buffer rings (Linux >= 6.0)");
    return CC_ENOSUPPORT;
  }
  return CC_OK;
}

static int uring_shard_init(cc_engine_t *e, uint32_t index) {
  struct uring_shard *u = calloc(1, sizeof *u);
  if (!u) return CC_ENOMEM;
  u->slots = calloc(e->cfg.ring_depth, sizeof *u->slots);
  if (!u->slots) {
    free(u);
    return CC_ENOMEM;
  }
  e->shards[index].impl = u;
  return CC_OK;
}

static void uring_shard_fini(cc_engine_t *e, uint32_t index) {
  struct uring_shard *u = e->shards[index].impl;
  if (!u) return;
  free(u->slots);
  free(u);
  e->shards[index].impl = NULL;
}

static struct io_uring_sqe *sqe_of(struct uring_shard *u) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
  if (!sqe) { /* SQ full: submit what is there and take the freed entry */
    io_uring_submit(&u->ring);
    sqe = io_uring_get_sqe(&u->ring);
  }
  return sqe;
}

/* This shard's sockets of a call: the call's own when it owns it, else its steering peers. */
static void arm_recv(struct cc_shard *s, struct uring_shard *u, struct cc_call *c, uint32_t index,
                     uint32_t sock) {
  struct io_uring_sqe *sqe = sqe_of(u);
  if (!sqe) return;
  io_uring_prep_recvmsg_multishot(sqe, cc_call_fds(s->e, c, index, s->index)[sock], &u->recv_tmpl, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = CC_URING_BGID;
  io_uring_sqe_set_data64(sqe, ud(OP_RECV, sock, index));
  cc_call_armed(s->e, c, index, s->index)[sock] = 1;
}

static void arm_kick(struct uring_shard *u, struct cc_shard *s) {
  struct io_uring_sqe *sqe = sqe_of(u);
  if (!sqe) return;
  io_uring_prep_read(sqe, s->kick_fd, &u->kick_value, sizeof u->kick_value, 0);
  io_uring_sqe_set_data64(sqe, ud(OP_KICK, 0, 0));
}

/* Closes this shard's sockets of a closing call once no receive is pending on them; the last
 * shard holding sockets of the call frees it. Once per shard and call. */
static void maybe_freed(struct cc_shard *s, struct cc_call *c, uint32_t index) {
  uint8_t *armed = cc_call_armed(s->e, c, index, s->index);
  if (armed[0] || armed[1]) return;
  int *fd = cc_call_fds(s->e, c, index, s->index);
  if (s->index != c->shard) {
    struct cc_peer_socks *p = &s->e->peers[(size_t)index * s->e->nshards + s->index];
    if (!p->held) return;
    p->held = 0;
  } else if (fd[0] < 0) {
    return; /* already closed */
  }
  for (int k = 0; k < 2; k++) {
    if (fd[k] >= 0) close(fd[k]);
    fd[k] = -1;
  }
  cc_shard_call_released(s, c);
}

static void drain_tx(struct cc_shard *s, struct uring_shard *u);

static void apply_ctl(struct cc_shard *s, struct uring_shard *u) {
  struct cc_ctl ops[64];
  uint32_t n, total = 0;
  while ((n = cc_shard_take_ctl(s, ops, 64)) > 0) {
    /* What JS wrote before a close (the session's RTCP BYE) goes out first: taking the ctl ops
     * under their mutex made those TX records visible; submit so the sends hold their files
     * before any socket below is closed. */
    drain_tx(s, u);
    io_uring_submit(&u->ring);
    for (uint32_t i = 0; i < n; i++) {
      uint32_t index = ops[i].index;
      struct cc_call *c = &s->e->calls[index];
      int *fd = cc_call_fds(s->e, c, index, s->index);
      uint8_t *armed = cc_call_armed(s->e, c, index, s->index);
      if (ops[i].op == CC_CTL_ADD) {
        uint32_t expected = CC_CALL_OPENING;
        /* A call closed before its shard saw it goes straight to the close below. The owner
         * makes it live; a steering peer (ADD after the owner's) arms unless it is closing. */
        int arm = s->index == c->shard
                      ? __atomic_compare_exchange_n(&c->state, &expected, CC_CALL_LIVE, 0,
                                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
                      : __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != CC_CALL_CLOSING;
        if (arm) {
          for (uint32_t k = 0; k < 2; k++) if (fd[k] >= 0) arm_recv(s, u, c, index, k);
        }
      } else if (ops[i].op == CC_CTL_FILTER) {
        cc_src_filter_init(&c->filter, &c->filter_cfg);
        c->filtering = 1;
      } else if (ops[i].op == CC_CTL_FILTER_PT) {
        c->filter.cfg.pt_audio = (uint8_t)ops[i].a;
        c->filter.cfg.pt_event = (uint8_t)ops[i].b;
      } else if (ops[i].op == CC_CTL_FILTER_REMOTE) {
        if (c->filtering) cc_src_filter_remote(&c->filter, ops[i].addr, (uint16_t)ops[i].b, ops[i].c);
      } else if (ops[i].op == CC_CTL_CLOSE) {
        for (uint32_t k = 0; k < 2; k++) {
          if (!armed[k]) continue;
          struct io_uring_sqe *sqe = sqe_of(u);
          io_uring_prep_cancel_fd(sqe, fd[k], 0);
          io_uring_sqe_set_data64(sqe, ud(OP_CANCEL, k, index));
        }
        maybe_freed(s, c, index);
      }
    }
    total += n;
  }
  if (total) cc_shard_ctl_done(s);
}

static void on_recv(struct cc_shard *s, struct uring_shard *u, struct io_uring_cqe *cqe) {
  uint32_t index = (uint32_t)(cqe->user_data >> 16), sock = (uint32_t)(cqe->user_data >> 8) & 1u;
  struct cc_call *c = &s->e->calls[index];
  int more = (cqe->flags & IORING_CQE_F_MORE) != 0;
  if (cqe->res >= 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
    uint32_t bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    uint8_t *buf = u->bufs + (size_t)bid * CC_URING_BUF_SZ;
    struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, cqe->res, &u->recv_tmpl);
    uint32_t st = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
    if (o && st == CC_CALL_LIVE && !(o->flags & MSG_TRUNC)) {
      const uint8_t *payload = io_uring_recvmsg_payload(o, &u->recv_tmpl);
      uint32_t len = io_uring_recvmsg_payload_length(o, cqe->res, &u->recv_tmpl);
      uint8_t addr16[16];
      uint16_t port = 0;
      uint8_t family = 0;
      int named = peer_of(io_uring_recvmsg_name(o), o->namelen, addr16, &port, &family);
      cc_rtp_hdr_t h = {0};
      int kind = cc_rtp_classify(payload, len, &h);
      uint32_t verdict = 0;
      uint64_t now = cc_now_us(); /* the arrival JS sees, and the filter's clock */
      /* The owner runs the call's source filter on its RTP (not on RTCP, malformed or strays:
       * JS judges those as the Deno path does). */
      if (c->filtering && sock == 0u && kind == CC_PKT_RTP && s->index == c->shard && named) {
        verdict = cc_src_filter_rtp(&c->filter, addr16, port, h.pt, h.seq, h.ssrc, now);
        if (!(verdict & CC_SF_ACCEPT)) {
          uint32_t k = verdict & CC_SF_DROP_SOURCE ? 0u : verdict & CC_SF_DROP_STALE ? 1u : 2u;
          __atomic_store_n(&c->drops[k], c->drops[k] + 1u, __ATOMIC_RELAXED); /* JS reads it */
          s->stats[CC_ST_RX_FILTERED]++;
          goto give_back;
        }
      }
      /* Malformed datagrams are counted here but still handed over (flagged): the session's
       * own counters must read the same on every engine (the Deno path counts them there). */
      if (kind == CC_PKT_MALFORMED) s->stats[CC_ST_RX_MALFORMED]++;
      /* Steered: the program missed (no entry yet, or the port's entry already cleared). The
       * record still goes to JS, which finds the call by id on any shard's ring. */
      if (s->index != c->shard) s->stats[CC_ST_RX_STRAY]++;
      if (!named) {
        s->stats[CC_ST_RX_MALFORMED]++;
      } else {
        cc_rec_t *r = cc_ring_claim(s->rx, s->rx_seq);
        if (!r) {
          s->rx->drops++; /* JS is behind: drop the newest, never overwrite unread audio */
        } else {
          memcpy(cc_ring_dcache(s->rx) + r->chunk, payload, len);
          r->call = c->id;
          r->sz = (uint16_t)len;
          /* What the socket says, not what the bytes claim: RTCP on the RTCP port, and on the
           * RTP port only when muxed (JS decides mux by the packet, as the Deno path does). */
          r->kind = (uint8_t)(sock == 1u ? CC_KIND_RTCP : CC_KIND_RTP);
          r->flags = (uint8_t)(kind == CC_PKT_RTCP ? CC_RX_RTCP : kind == CC_PKT_MALFORMED ? CC_RX_MALFORMED : 0u);
          if (verdict) {
            r->flags |= (uint8_t)(CC_RX_FILTERED | (verdict & CC_SF_LATCHED ? CC_RX_LATCHED : 0u) |
                                  (verdict & CC_SF_RELATCHED ? CC_RX_RELATCHED : 0u) |
                                  (verdict & CC_SF_SSRC_CHANGE ? CC_RX_SSRC_CHANGE : 0u));
          }
          r->port = port;
          r->family = family;
          r->ts_us_lo = (uint32_t)now;
          r->ts_us_hi = (uint32_t)(now >> 32);
          if (family == 4) memcpy(r->addr, addr16 + 12, 4);
          else memcpy(r->addr, addr16, 16);
          cc_ring_publish(r, s->rx_seq);
          s->rx_seq++;
          s->stats[CC_ST_RX_PKTS]++;
          s->stats[CC_ST_RX_BYTES] += len;
        }
      }
    } else if (o && (o->flags & MSG_TRUNC)) {
      s->stats[CC_ST_RX_MALFORMED]++;
    }
  give_back:
    /* Give the buffer back to the kernel at once (its bytes were copied). */
    io_uring_buf_ring_add(u->br, buf, CC_URING_BUF_SZ, (unsigned short)bid,
                          io_uring_buf_ring_mask(CC_URING_BUFS), 0);
    io_uring_buf_ring_advance(u->br, 1);
  }
  if (!more) {
    cc_call_armed(s->e, c, index, s->index)[sock] = 0;
    uint32_t st = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
    if ((st == CC_CALL_LIVE || st == CC_CALL_OPENING) && cc_call_fds(s->e, c, index, s->index)[sock] >= 0) {
      arm_recv(s, u, c, index, sock); /* ENOBUFS etc. */
    } else if (st == CC_CALL_CLOSING) {
      maybe_freed(s, c, index);
    }
  }
}

static void release_tx(struct cc_shard *s, struct uring_shard *u) {
  uint32_t seq = u->tx_inflight_from, mask = s->tx->depth - 1u;
  while (seq != s->tx_seq && u->slots[seq & mask].done) {
    u->slots[seq & mask].done = 0;
    seq++;
  }
  if (seq != u->tx_inflight_from) {
    u->tx_inflight_from = seq;
    cc_ring_release(s->tx, seq);
  }
}

static void drain_tx(struct cc_shard *s, struct uring_shard *u) {
  uint32_t mask = s->tx->depth - 1u;
  cc_rec_t *r;
  while ((r = cc_ring_peek(s->tx, s->tx_seq))) {
    struct send_slot *slot = &u->slots[s->tx_seq & mask];
    uint32_t index = r->call & 0xffffu;
    struct cc_call *c = index < CC_MAX_CALLS ? &s->e->calls[index] : NULL;
    uint32_t sock = r->kind == CC_KIND_RTCP ? 1u : 0u;
    int fd = -1;
    /* Any state but FREE: the sockets are open until this thread closes them (apply_ctl). */
    if (c && c->id == r->call && __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != CC_CALL_FREE) {
      fd = c->fd[sock] >= 0 ? c->fd[sock] : c->fd[0]; /* rtcp-mux: RTCP leaves from the RTP port */
    }
    /* The destination: IPv4 as an address word, or IPv6 (a mapped one is IPv4). */
    uint32_t ip4 = 0;
    uint16_t port = r->port;
    const uint8_t *ip6 = NULL;
    if (r->family == 0 && c) {
      uint64_t rem = __atomic_load_n(&c->remote[sock], __ATOMIC_ACQUIRE);
      port = (uint16_t)rem;
      ip4 = (uint32_t)(rem >> 16);
    } else {
      if (r->family == 6 && !IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)r->addr)) ip6 = r->addr;
      else memcpy(&ip4, r->family == 6 ? r->addr + 12 : r->addr, 4);
    }
    socklen_t to_len = 0;
    if (c && c->family == 6) { /* dual-stack: an IPv4 destination goes IPv4-mapped */
      slot->to.v6 = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_port = htons(port)};
      if (ip6) memcpy(&slot->to.v6.sin6_addr, ip6, 16);
      else cc_sf_addr_v4(slot->to.v6.sin6_addr.s6_addr, ip4);
      to_len = sizeof slot->to.v6;
    } else if (!ip6) {
      slot->to.v4 = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = {ip4}};
      to_len = sizeof slot->to.v4;
    } /* else an IPv6 destination from an IPv4 socket: it cannot be sent (a TX error) */
    struct io_uring_sqe *sqe = fd >= 0 && port && to_len ? sqe_of(u) : NULL;
    if (!sqe) {
      s->stats[fd < 0 || (port && !to_len) ? CC_ST_TX_ERRORS : CC_ST_TX_NO_REMOTE]++;
      slot->done = 1;
    } else {
      slot->iov = (struct iovec){cc_ring_dcache(s->tx) + r->chunk, r->sz};
      slot->msg = (struct msghdr){.msg_name = &slot->to, .msg_namelen = to_len,
                                  .msg_iov = &slot->iov, .msg_iovlen = 1};
      slot->done = 0;
      io_uring_prep_sendmsg(sqe, fd, &slot->msg, 0);
      io_uring_sqe_set_data64(sqe, ud(OP_SEND, sock, s->tx_seq & mask));
    }
    s->tx_seq++;
  }
  release_tx(s, u);
}

static void *uring_shard_main(void *arg) {
  struct cc_shard *s = arg;
  cc_engine_t *e = s->e;
  struct uring_shard *u = s->impl;
  struct io_uring_params params = {0};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
  params.cq_entries = 8192;
  params.flags |= IORING_SETUP_CQSIZE;
  int rc = io_uring_queue_init_params(2048, &u->ring, &params);
  if (rc < 0) {
    fprintf(stderr, "cc-uring shard %u: io_uring_queue_init: %s\n", s->index, strerror(-rc));
    return NULL;
  }
  u->br_bytes = CC_URING_BUFS * sizeof(struct io_uring_buf);
  u->br = mmap(NULL, u->br_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  u->bufs = malloc((size_t)CC_URING_BUFS * CC_URING_BUF_SZ);
  struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)u->br, .ring_entries = CC_URING_BUFS,
                                 .bgid = CC_URING_BGID};
  if (u->br == MAP_FAILED || !u->bufs || io_uring_register_buf_ring(&u->ring, &reg, 0) != 0) {
    fprintf(stderr, "cc-uring shard %u: cannot register the provided buffer ring\n", s->index);
    io_uring_queue_exit(&u->ring);
    return NULL;
  }
  io_uring_buf_ring_init(u->br);
  for (uint32_t i = 0; i < CC_URING_BUFS; i++) {
    io_uring_buf_ring_add(u->br, u->bufs + (size_t)i * CC_URING_BUF_SZ, CC_URING_BUF_SZ,
                          (unsigned short)i, io_uring_buf_ring_mask(CC_URING_BUFS), (int)i);
  }
  io_uring_buf_ring_advance(u->br, CC_URING_BUFS);
  /* Room for either family's name: io_uring reports the length each datagram's took. */
  u->recv_tmpl = (struct msghdr){.msg_namelen = sizeof(struct sockaddr_in6)};
  u->tx_inflight_from = s->tx_seq;
  arm_kick(u, s);

  while (!__atomic_load_n(&e->stopping, __ATOMIC_ACQUIRE)) {
    apply_ctl(s, u);
    drain_tx(s, u);
    struct io_uring_cqe *cqe;
    if (e->cfg.busy_poll_us) {
      io_uring_submit(&u->ring);
      uint64_t until = cc_now_us() + e->cfg.busy_poll_us;
      while (io_uring_peek_cqe(&u->ring, &cqe) != 0 && cc_now_us() < until) {
        if (cc_ring_peek(s->tx, s->tx_seq)) break; /* JS wrote more: go send it */
      }
    }
    if (io_uring_peek_cqe(&u->ring, &cqe) != 0 && !cc_ring_peek(s->tx, s->tx_seq)) {
      s->stats[CC_ST_WAKEUPS]++;
      io_uring_submit_and_wait(&u->ring, 1);
    } else {
      io_uring_submit(&u->ring);
    }
    /* Control ops JS pushed before the datagrams now in the CQ were even sent (a setRemote
     * then a packet from the new far end) take effect before those datagrams are judged. */
    apply_ctl(s, u);
    uint32_t rx_before = s->rx_seq;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&u->ring, head, cqe) {
      seen++;
      uint32_t op = (uint32_t)(cqe->user_data & 0xffu);
      if (op == OP_RECV) on_recv(s, u, cqe);
      else if (op == OP_SEND) {
        uint32_t slot = (uint32_t)(cqe->user_data >> 16);
        u->slots[slot].done = 1;
        if (cqe->res < 0) s->stats[CC_ST_TX_ERRORS]++;
        else {
          s->stats[CC_ST_TX_PKTS]++;
          s->stats[CC_ST_TX_BYTES] += (uint64_t)cqe->res;
        }
      } else if (op == OP_KICK) arm_kick(u, s);
      /* OP_CANCEL: the cancelled receive reports itself (its last CQE, without F_MORE). */
    }
    io_uring_cq_advance(&u->ring, seen);
    release_tx(s, u);
    if (s->rx_seq != rx_before) {
      s->stats[CC_ST_BATCHES]++;
      cc_ring_flush(s->rx, s->rx_seq);
      cc_engine_ring_doorbell(e);
      uint32_t tick = CC_ENGINE_BATCH_US(e->cfg.flags);
      if (tick) { /* let the next batch gather (see engine.h) */
        struct timespec ts = {0, (long)tick * 1000L};
        nanosleep(&ts, NULL);
      }
    }
  }
  /* Stopping: engine.c closes the sockets; the ring goes with its requests. */
  apply_ctl(s, u);
  io_uring_queue_exit(&u->ring);
  munmap(u->br, u->br_bytes);
  free(u->bufs);
  return NULL;
}

const struct cc_engine_ops cc_uring_ops = {
    .name = "uring",
    .probe = uring_probe,
    .shard_init = uring_shard_init,
    .shard_main = uring_shard_main,
    .shard_fini = uring_shard_fini,
};
