/* Per-packet cost of the shard's source filter (ffi/pkt/src_filter.c), with and without it, in
   one run: the receive-side work uring.c does per datagram before the RX ring (RTP classify,
   the source name as 16 bytes), then the same plus cc_src_filter_rtp. Sources are IPv4 (as a
   dual-stack socket reports them, ::ffff:-mapped) and IPv6, from the latched peer and from
   spoofers (another port, another address) in a fixed mix; rounds alternate the two loops and
   the medians are reported, with their ratio.

   gcc -O2 -Iffi -o /tmp/src_filter_bench bench/native/src_filter_bench.c ffi/pkt/src_filter.c \
     ffi/pkt/rtp.c && /tmp/src_filter_bench */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pkt/rtp.h"
#include "pkt/src_filter.h"

#define N 4096u
#define ROUNDS 15
#define PASSES 200

static uint8_t pkts[N][172];
static struct sockaddr_in6 names[N];

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* One pass over the N datagrams; filter != NULL runs the filter too. Returns a checksum. */
static uint64_t pass(cc_src_filter_t *filter, uint64_t t) {
  uint64_t sum = 0;
  for (uint32_t i = 0; i < N; i++) {
    cc_rtp_hdr_t h = {0};
    int kind = cc_rtp_classify(pkts[i], sizeof pkts[i], &h);
    uint8_t addr16[16];
    memcpy(addr16, &names[i].sin6_addr, 16);
    uint16_t port = ntohs(names[i].sin6_port);
    uint32_t v = 1;
    if (filter && kind == CC_PKT_RTP) v = cc_src_filter_rtp(filter, addr16, port, h.pt, h.seq, h.ssrc, t + i);
    sum += v + h.seq + addr16[15] + port;
  }
  return sum;
}

static void run(const char *what, int v6) {
  uint8_t peer[16], other[16];
  if (v6) {
    inet_pton(AF_INET6, "2001:db8::10", peer);
    inet_pton(AF_INET6, "2001:db8::11", other);
  } else {
    cc_sf_addr_v4(peer, htonl(0xc0000201));
    cc_sf_addr_v4(other, htonl(0xc0000202));
  }
  /* 7 of 8 from the peer in sequence; 1 of 8 a spoof (alternately another port, another
     address), as under attack; the filter's state persists across passes (a live call). */
  uint16_t seq = 0;
  for (uint32_t i = 0; i < N; i++) {
    int spoof = (i & 7u) == 7u;
    uint8_t *p = pkts[i];
    memset(p, 0xff, sizeof pkts[i]);
    p[0] = 0x80;
    p[1] = 0;
    uint16_t s = spoof ? (uint16_t)(9000 + i) : seq++;
    p[2] = (uint8_t)(s >> 8);
    p[3] = (uint8_t)s;
    memset(p + 4, 0, 4);
    p[8] = 0, p[9] = 0, p[10] = 0x11, p[11] = 0x11;
    names[i] = (struct sockaddr_in6){.sin6_family = AF_INET6,
                                     .sin6_port = htons(spoof && (i & 8u) ? 40002 : 40000)};
    memcpy(&names[i].sin6_addr, spoof && !(i & 8u) ? other : peer, 16);
  }
  cc_src_filter_cfg_t cfg = {.relatch_us = 2000000, .ssrc_change_us = 1000000, .probation = 3,
                             .symmetric = 1, .pt_audio = 0, .pt_event = 101};
  cc_src_filter_t f;
  cc_src_filter_init(&f, &cfg);
  cc_src_filter_remote(&f, peer, 40000, 0x10000);
  double without[ROUNDS], with[ROUNDS];
  volatile uint64_t sink = 0;
  uint64_t t = 1000000;
  for (int r = 0; r < ROUNDS; r++) {
    double a = now_ns();
    for (int k = 0; k < PASSES; k++) sink += pass(NULL, t);
    double b = now_ns();
    for (int k = 0; k < PASSES; k++) sink += pass(&f, t += 20);
    double c = now_ns();
    without[r] = (b - a) / (PASSES * (double)N);
    with[r] = (c - b) / (PASSES * (double)N);
  }
  qsort(without, ROUNDS, sizeof(double), cmp);
  qsort(with, ROUNDS, sizeof(double), cmp);
  double w0 = without[ROUNDS / 2], w1 = with[ROUNDS / 2];
  printf("%-16s without filter %6.2f ns/pkt  with filter %6.2f ns/pkt  filter %6.2f ns/pkt  ratio %.2fx\n",
         what, w0, w1, w1 - w0, w1 / w0);
  (void)sink;
}

int main(void) {
  run("IPv4 (mapped)", 0);
  run("IPv6", 1);
  return 0;
}
