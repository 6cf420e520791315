/*
 * rtp_blast: the load generator (and baseline reflector) of bench/rtp_engine_bench.ts.
 *
 *   rtp_blast send <host> <first_port> <calls> <pps_per_call> <seconds>
 *     One UDP socket sends G.711-sized RTP (12 + 160 bytes) to <calls> ports (first_port,
 *     +2, +4 …), paced in 1 ms bursts with sendmmsg, and receives the echoes with recvmmsg.
 *     Payload bytes 0..7 carry the send time (CLOCK_MONOTONIC ns), 8..11 the call index.
 *     Prints one JSON line: sent, received, rtt_p50_us, rtt_p99_us, rtt_max_us.
 *   rtp_blast reflect <host> <first_port> <calls> <seconds>
 *     Echoes every datagram on those ports back to its sender, in C with recvmmsg/sendmmsg
 *     (the kernel-only baseline the added latency is measured against).
 *
 * Built by the bench (gcc -O2); not part of the product.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 256
#define PKT 172

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static int udp(const char *host, int port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int big = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, host, &sa.sin_addr);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    perror("bind");
    exit(2);
  }
  return fd;
}

static int blast(const char *host, int first, int calls, int pps, int seconds) {
  int fd = udp(host, 0);
  struct sockaddr_in *to = calloc((size_t)calls, sizeof *to);
  uint16_t *seq = calloc((size_t)calls, sizeof *seq);
  for (int i = 0; i < calls; i++) {
    to[i] = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)(first + 2 * i))};
    inet_pton(AF_INET, host, &to[i].sin_addr);
  }
  uint64_t total = (uint64_t)calls * (uint64_t)pps * (uint64_t)seconds;
  uint32_t *rtt = malloc(total * sizeof *rtt + 4);
  uint64_t sent = 0, received = 0;
  static uint8_t out[BATCH][PKT], in[BATCH][2048];
  struct mmsghdr smsg[BATCH], rmsg[BATCH];
  struct iovec siov[BATCH], riov[BATCH];
  for (int i = 0; i < BATCH; i++) {
    siov[i] = (struct iovec){out[i], PKT};
    riov[i] = (struct iovec){in[i], sizeof in[i]};
    rmsg[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &riov[i], .msg_iovlen = 1}};
  }
  uint64_t start = now_ns(), end = start + (uint64_t)seconds * 1000000000u;
  int call = 0;
  for (;;) {
    uint64_t t = now_ns();
    if (t >= end + 300000000u) break; /* 300 ms for the last echoes */
    /* Due by now: packets at an even rate over the run. */
    uint64_t due = t >= end ? total : (uint64_t)((double)(t - start) / 1e9 * (double)calls * pps);
    while (sent < due) {
      int n = 0;
      while (n < BATCH && sent + (uint64_t)n < due) {
        uint8_t *p = out[n];
        uint16_t s = seq[call]++;
        p[0] = 0x80;
        p[1] = 0;
        p[2] = (uint8_t)(s >> 8);
        p[3] = (uint8_t)s;
        uint32_t ts = (uint32_t)s * 160u, ssrc = 0x1000u + (uint32_t)call;
        p[4] = (uint8_t)(ts >> 24); p[5] = (uint8_t)(ts >> 16); p[6] = (uint8_t)(ts >> 8); p[7] = (uint8_t)ts;
        p[8] = (uint8_t)(ssrc >> 24); p[9] = (uint8_t)(ssrc >> 16); p[10] = (uint8_t)(ssrc >> 8); p[11] = (uint8_t)ssrc;
        uint64_t ns = now_ns();
        memcpy(p + 12, &ns, 8);
        memcpy(p + 20, &call, 4);
        memset(p + 24, 0xff, PKT - 24);
        smsg[n] = (struct mmsghdr){.msg_hdr = {.msg_name = &to[call], .msg_namelen = sizeof to[call],
                                               .msg_iov = &siov[n], .msg_iovlen = 1}};
        call = (call + 1) % calls;
        n++;
      }
      int k = sendmmsg(fd, smsg, (unsigned)n, 0);
      if (k <= 0) break;
      sent += (uint64_t)k;
    }
    struct pollfd pfd = {fd, POLLIN, 0};
    poll(&pfd, 1, 1);
    int k;
    while ((k = recvmmsg(fd, rmsg, BATCH, MSG_DONTWAIT, NULL)) > 0) {
      uint64_t ns = now_ns();
      for (int i = 0; i < k; i++) {
        if (rmsg[i].msg_len < 24 || received >= total) continue;
        uint64_t was;
        memcpy(&was, in[i] + 12, 8);
        rtt[received++] = (uint32_t)((ns - was) / 1000u);
      }
    }
  }
  qsort(rtt, received, sizeof *rtt, cmp_u32);
  printf("{\"sent\":%llu,\"received\":%llu,\"rtt_p50_us\":%u,\"rtt_p99_us\":%u,\"rtt_max_us\":%u}\n",
         (unsigned long long)sent, (unsigned long long)received,
         received ? rtt[received / 2] : 0, received ? rtt[received * 99 / 100] : 0,
         received ? rtt[received - 1] : 0);
  return 0;
}

static int reflect(const char *host, int first, int calls, int seconds) {
  struct pollfd *pfd = calloc((size_t)calls, sizeof *pfd);
  for (int i = 0; i < calls; i++) pfd[i] = (struct pollfd){udp(host, first + 2 * i), POLLIN, 0};
  static uint8_t buf[BATCH][2048];
  struct sockaddr_in from[BATCH];
  struct mmsghdr msg[BATCH];
  struct iovec iov[BATCH];
  uint64_t end = now_ns() + (uint64_t)seconds * 1000000000u;
  printf("ready\n");
  fflush(stdout);
  while (now_ns() < end) {
    if (poll(pfd, (nfds_t)calls, 100) <= 0) continue;
    for (int c = 0; c < calls; c++) {
      if (!(pfd[c].revents & POLLIN)) continue;
      for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){buf[i], sizeof buf[i]};
        msg[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &from[i], .msg_namelen = sizeof from[i],
                                              .msg_iov = &iov[i], .msg_iovlen = 1}};
      }
      int k = recvmmsg(pfd[c].fd, msg, BATCH, MSG_DONTWAIT, NULL);
      for (int i = 0; i < k; i++) iov[i].iov_len = msg[i].msg_len;
      if (k > 0) sendmmsg(pfd[c].fd, msg, (unsigned)k, 0);
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 7 && !strcmp(argv[1], "send"))
    return blast(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
  if (argc == 6 && !strcmp(argv[1], "reflect"))
    return reflect(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
  fprintf(stderr, "usage: rtp_blast send HOST FIRST_PORT CALLS PPS_PER_CALL SECONDS | reflect HOST FIRST_PORT CALLS SECONDS\n");
  return 2;
}
