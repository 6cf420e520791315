/* bench/xdp/udp_blast.c: the far end of bench/xdp_bench.ts, in C so that the load generator is
   not the bottleneck being measured.

   udp_blast blast <ip> <port> <seconds> <window>
     sends 172-byte RTP packets (send time in ns at bytes 12..19) keeping at most `window`
     unanswered, receives the echoes, prints one JSON line: sent, received, seconds, rtt p50/p99
     in µs (every echo's RTT is kept).
   udp_blast echo <ip> <port> <seconds>
     the kernel baseline: echoes every datagram back with recvmmsg/sendmmsg for `seconds`.

   Plain kernel UDP sockets, batches of 32 with sendmmsg/recvmmsg. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define SZ 172

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int cmp64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int echo(int fd, double seconds) {
  uint8_t bufs[BATCH][2048];
  struct mmsghdr m[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in from[BATCH];
  uint64_t end = now_ns() + (uint64_t)(seconds * 1e9), n = 0;
  while (now_ns() < end) {
    for (int i = 0; i < BATCH; i++) {
      iov[i] = (struct iovec){bufs[i], sizeof bufs[i]};
      m[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof from[i],
                                     .msg_iov = &iov[i], .msg_iovlen = 1};
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 100) <= 0) continue;
    int r = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
    if (r <= 0) continue;
    for (int i = 0; i < r; i++) iov[i].iov_len = m[i].msg_len;
    sendmmsg(fd, m, (unsigned)r, 0);
    n += (uint64_t)r;
  }
  printf("{\"echoed\":%llu}\n", (unsigned long long)n);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: udp_blast blast|echo <ip> <port> <seconds> [window]\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int big = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
  inet_pton(AF_INET, argv[2], &to.sin_addr);
  double seconds = atof(argv[4]);
  if (strcmp(argv[1], "echo") == 0) {
    if (bind(fd, (struct sockaddr *)&to, sizeof to)) {
      perror("bind");
      return 1;
    }
    return echo(fd, seconds);
  }
  int window = argc > 5 ? atoi(argv[5]) : 64;
  if (connect(fd, (struct sockaddr *)&to, sizeof to)) {
    perror("connect");
    return 1;
  }
  size_t cap = 1u << 24;
  uint64_t *rtt = malloc(cap * sizeof *rtt);
  uint64_t sent = 0, got = 0, nrtt = 0;
  uint8_t out[BATCH][SZ], in[BATCH][2048];
  struct mmsghdr sm[BATCH], rm[BATCH];
  struct iovec siov[BATCH], riov[BATCH];
  for (int i = 0; i < BATCH; i++) {
    memset(out[i], 0, SZ);
    out[i][0] = 0x80;
    out[i][1] = 0x08;
  }
  uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9), last_rx = start;
  while (1) {
    uint64_t t = now_ns();
    int sending = t < end;
    if (!sending && (sent == got || t - last_rx > 1000000000ull)) break;
    int k = 0;
    while (sending && k < BATCH && (int64_t)(sent + (uint64_t)k - got) < window) {
      uint16_t seq = (uint16_t)(sent + (uint64_t)k);
      out[k][2] = (uint8_t)(seq >> 8);
      out[k][3] = (uint8_t)seq;
      memcpy(out[k] + 12, &t, 8);
      siov[k] = (struct iovec){out[k], SZ};
      sm[k].msg_hdr = (struct msghdr){.msg_iov = &siov[k], .msg_iovlen = 1};
      k++;
    }
    if (k) {
      int s = sendmmsg(fd, sm, (unsigned)k, MSG_DONTWAIT);
      if (s > 0) sent += (uint64_t)s;
    }
    for (int i = 0; i < BATCH; i++) {
      riov[i] = (struct iovec){in[i], sizeof in[i]};
      rm[i].msg_hdr = (struct msghdr){.msg_iov = &riov[i], .msg_iovlen = 1};
    }
    int r = recvmmsg(fd, rm, BATCH, MSG_DONTWAIT, NULL);
    if (r > 0) {
      uint64_t now = now_ns();
      last_rx = now;
      for (int i = 0; i < r; i++) {
        uint64_t at;
        memcpy(&at, in[i] + 12, 8);
        if (nrtt < cap && rm[i].msg_len == SZ) rtt[nrtt++] = now - at;
      }
      got += (uint64_t)r;
    } else if (!k || (int64_t)(sent - got) >= window) {
      struct pollfd p = {.fd = fd, .events = POLLIN};
      poll(&p, 1, 10);
    }
  }
  double secs = (double)(now_ns() - start) / 1e9;
  qsort(rtt, nrtt, sizeof *rtt, cmp64);
  uint64_t p50 = nrtt ? rtt[nrtt / 2] : 0, p99 = nrtt ? rtt[(nrtt * 99) / 100] : 0;
  printf("{\"sent\":%llu,\"received\":%llu,\"seconds\":%.3f,\"rttP50Us\":%.1f,\"rttP99Us\":%.1f}\n",
         (unsigned long long)sent, (unsigned long long)got, secs, (double)p50 / 1e3,
         (double)p99 / 1e3);
  free(rtt);
  return 0;
}
