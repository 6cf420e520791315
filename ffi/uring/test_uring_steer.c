/* C test of sk_reuseport steering inside the io_uring engine (cc_engine_steer): a two-shard
   engine binds every call's ports once per shard in a reuseport group; datagrams to a call's
   RTP and RTCP ports must come out of the RX ring of the shard that owns the call, never the
   other one (calls alternate owners, so the kernel's own hash cannot pass this by luck), and
   the program's counters must say it steered every one by port. Then: closing frees every
   shard's sockets (the ports bind again), open/close races leave nothing behind, and the
   fallback — the BPF object missing, or one shard — is refused with a reason while calls
   still open and deliver unsteered. Needs root (bpf): SKIP otherwise, a failure under CI=true.
   Exits 1 on a failure. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../bpf/cc_bpf.h"
#include "../engine/engine.h"
#include "../ring/ring.h"

#define FAIL(...)                                     \
  do {                                                \
    fprintf(stderr, "test_uring_steer: " __VA_ARGS__); \
    fprintf(stderr, "\n");                            \
    exit(1);                                          \
  } while (0)

#define NCALLS 8
#define PKTS 16

static int udp_socket(uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) FAIL("socket: %s", strerror(errno));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a)) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

static void send_to(int fd, uint16_t port, const uint8_t *buf, size_t len) {
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)len) FAIL("sendto");
}

static cc_engine_t *engine(uint32_t shards) {
  cc_engine_cfg_t cfg = {.shards = shards, .first_cpu = -1};
  cc_engine_t *e;
  int rc = cc_engine_create(CC_ENGINE_URING, &cfg, &e);
  if (rc) FAIL("cc_engine_create: %d %s", rc, cc_engine_last_error());
  if ((rc = cc_engine_start(e))) FAIL("cc_engine_start: %d %s", rc, cc_engine_last_error());
  return e;
}

/* Reads every shard's RX ring until `want` records came; each must be on its call's shard
   (shard_of[call index]) unless `any_shard`. Waits on the doorbell: a signal, not a timer
   (10 s only bounds a lost datagram). */
static void collect(cc_engine_t *e, uint32_t want, const uint32_t *ids, const uint32_t *shard_of,
                    uint32_t n, int any_shard) {
  uint32_t got = 0, nshards = cc_engine_shards(e);
  uint32_t seq[64];
  for (uint32_t s = 0; s < nshards; s++) seq[s] = ((cc_ring_hdr_t *)cc_engine_rx_ring(e, s))->fseq;
  for (int rounds = 0; got < want; rounds++) {
    uint32_t bell = cc_engine_doorbell(e);
    for (uint32_t s = 0; s < nshards; s++) {
      cc_ring_hdr_t *h = cc_engine_rx_ring(e, s);
      cc_rec_t *r;
      while ((r = cc_ring_peek(h, seq[s]))) {
        uint32_t i = 0;
        while (i < n && ids[i] != r->call) i++;
        if (i == n) FAIL("shard %u: a record for unknown call %#x", s, r->call);
        if (!any_shard && shard_of[i] != s) {
          FAIL("call %u (shard %u) came out of shard %u", i, shard_of[i], s);
        }
        got++;
        cc_ring_release(h, ++seq[s]);
      }
    }
    if (got >= want) break;
    if (cc_engine_wait(e, bell, 10000) < 0 || rounds > 100000) FAIL("lost: %u of %u", got, want);
    if (cc_engine_doorbell(e) == bell) FAIL("no datagram within 10 s: %u of %u", got, want);
  }
  if (got != want) FAIL("%u records, not %u", got, want);
}

int main(void) {
  if (geteuid() != 0) {
    const char *ci = getenv("CI");
    printf("test_uring_steer: SKIP (needs root for bpf)\n");
    return ci && strcmp(ci, "true") == 0 ? 1 : 0;
  }
  /* A block of ports around a free ephemeral one (the engine skips any that are taken). */
  int probe = udp_socket(0);
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  getsockname(probe, (struct sockaddr *)&a, &al);
  close(probe);
  uint16_t min = (uint16_t)(ntohs(a.sin_port) & ~1u);
  if (min > 65535 - 128) min = 65535 - 128;
  uint16_t max = (uint16_t)(min + 127);

  cc_engine_t *e = engine(2);
  int rc = cc_engine_steer(e, min, max);
  if (rc) FAIL("cc_engine_steer: %d %s", rc, cc_engine_last_error());
  if (cc_engine_steer(e, min, max) != CC_ESTATE) FAIL("steering set up twice");

  uint32_t ids[NCALLS], ports[NCALLS], shard_of[NCALLS], per_shard[2] = {0, 0};
  for (uint32_t i = 0; i < NCALLS; i++) {
    cc_call_cfg_t cc = {.ipv4 = htonl(INADDR_LOOPBACK), .port_min = min, .port_max = max,
                        .rtcp_mux = (uint8_t)(i & 1u)};
    uint32_t out3[3];
    if ((rc = cc_call_open(e, &cc, out3))) FAIL("cc_call_open %u: %d %s", i, rc, cc_engine_last_error());
    ids[i] = out3[0];
    ports[i] = out3[1];
    shard_of[i] = out3[2];
    per_shard[out3[2]]++;
    /* Every shard holds the port: a plain socket cannot have it. */
    int taken = udp_socket((uint16_t)ports[i]);
    if (taken != -EADDRINUSE) FAIL("call %u port %u bindable (%d)", i, ports[i], taken);
  }
  if (!per_shard[0] || !per_shard[1]) FAIL("calls not spread: %u/%u", per_shard[0], per_shard[1]);

  int client = udp_socket(0);
  uint8_t rtp[172] = {0x80, 0x00};
  uint8_t rtcp[8] = {0x80, 201, 0, 1, 1, 2, 3, 4}; /* RR, no report blocks */
  uint32_t want = 0;
  for (uint32_t k = 0; k < PKTS; k++) {
    for (uint32_t i = 0; i < NCALLS; i++) {
      rtp[3] = (uint8_t)k;
      rtp[11] = (uint8_t)i;
      send_to(client, (uint16_t)ports[i], rtp, sizeof rtp);
      want++;
      if (!(i & 1u) && k < 4) { /* RTCP on port + 1 (not muxed) */
        send_to(client, (uint16_t)(ports[i] + 1), rtcp, sizeof rtcp);
        want++;
      }
    }
  }
  collect(e, want, ids, shard_of, NCALLS, 0);
  uint64_t st[16], steer[4];
  for (uint32_t s = 0; s < 2; s++) {
    if (cc_engine_stats(e, s, st)) FAIL("stats");
    if (st[CC_ST_RX_STRAY] != 0) FAIL("shard %u: %llu strays", s, (unsigned long long)st[CC_ST_RX_STRAY]);
  }
  if (cc_engine_steer_stats(e, steer)) FAIL("steer stats");
  if (steer[CC_STEER_STAT_PORT] != want || steer[CC_STEER_STAT_MISS] || steer[CC_STEER_STAT_DEFAULT]) {
    FAIL("steer stats port=%llu (want %u) miss=%llu default=%llu",
         (unsigned long long)steer[CC_STEER_STAT_PORT], want,
         (unsigned long long)steer[CC_STEER_STAT_MISS], (unsigned long long)steer[CC_STEER_STAT_DEFAULT]);
  }

  /* Closing: every shard closes its sockets before close returns, so the ports bind again. */
  for (uint32_t i = 0; i < NCALLS; i++) {
    if ((rc = cc_call_close(e, ids[i]))) FAIL("cc_call_close %u: %d %s", i, rc, cc_engine_last_error());
    if (cc_call_close(e, ids[i])) FAIL("second close");
    int fd = udp_socket((uint16_t)ports[i]);
    if (fd < 0) FAIL("port %u still held after close (%d)", ports[i], fd);
    close(fd);
  }
  /* Open and close at once, many times: the shards' ADD/CLOSE on their own sockets race the
     owner's; every slot must come back (16384 slots would hide a leak: reuse the port). */
  for (uint32_t i = 0; i < 200; i++) {
    cc_call_cfg_t cc = {.ipv4 = htonl(INADDR_LOOPBACK), .port_min = min, .port_max = max,
                        .rtcp_mux = (uint8_t)(i & 1u), .port = (uint16_t)ports[0]};
    uint32_t out3[3];
    if ((rc = cc_call_open(e, &cc, out3))) FAIL("reopen %u: %d %s", i, rc, cc_engine_last_error());
    if ((rc = cc_call_close(e, out3[0]))) FAIL("reclose %u: %d %s", i, rc, cc_engine_last_error());
  }
  cc_engine_stop(e);
  cc_engine_destroy(e);

  /* Fallbacks: refused with a reason; calls still work, on their own shard, unsteered. */
  setenv("CLUTCH_BPF_DIR", "/nonexistent-cc-bpf", 1);
  e = engine(2);
  rc = cc_engine_steer(e, min, max);
  if (rc != CC_ENOSUPPORT || !strstr(cc_engine_last_error(), "steer.bpf.o")) {
    FAIL("missing BPF object: %d '%s'", rc, cc_engine_last_error());
  }
  printf("test_uring_steer: fallback reason: %s\n", cc_engine_last_error());
  unsetenv("CLUTCH_BPF_DIR");
  cc_call_cfg_t cc = {.ipv4 = htonl(INADDR_LOOPBACK), .port_min = min, .port_max = max, .rtcp_mux = 1};
  uint32_t out3[3];
  if ((rc = cc_call_open(e, &cc, out3))) FAIL("unsteered open: %d %s", rc, cc_engine_last_error());
  send_to(client, (uint16_t)out3[1], rtp, sizeof rtp);
  collect(e, 1, &out3[0], &out3[2], 1, 0);
  if (cc_engine_steer_stats(e, steer) != CC_ESTATE) FAIL("steer stats without steering");
  cc_call_close(e, out3[0]);
  cc_engine_stop(e);
  cc_engine_destroy(e);

  e = engine(1);
  if (cc_engine_steer(e, min, max) != CC_ENOSUPPORT || !strstr(cc_engine_last_error(), "one shard")) {
    FAIL("one shard: '%s'", cc_engine_last_error());
  }
  cc_engine_stop(e);
  cc_engine_destroy(e);
  close(client);
  printf("test_uring_steer: %u datagrams of %u calls on their own shard of 2, steered by port; "
         "ports freed on close; fallbacks refused with a reason\n", want, NCALLS);
  return 0;
}
