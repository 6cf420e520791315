/* C test of bpf/steer.bpf.c + ffi/xdp/steer.c through the real kernel: two SO_REUSEPORT UDP
   sockets on one loopback port (shards 0 and 1), datagrams from two client sockets. The
   program must deliver each flow to the shard its flow entry names, then (entry removed) to
   the shard of the port entry — both ways round, so the kernel's own hash cannot pass the test
   by luck. Needs root (bpf): without it, it says SKIP and exits 0, or 1 under CI=true where
   nothing may skip (tests/_lib/env.ts's policy). Exits 1 on a failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../bpf/cc_bpf.h"
#include "bpf_obj.h"
#include "steer.h"

#define FAIL(...)                                  \
  do {                                             \
    fprintf(stderr, "test_steer: " __VA_ARGS__);   \
    fprintf(stderr, "\n");                         \
    exit(1);                                       \
  } while (0)

static int udp_socket(uint16_t port, int reuse) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) FAIL("socket: %s", strerror(errno));
  int one = 1;
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one)) FAIL("SO_REUSEPORT");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a)) FAIL("bind %u: %s", port, strerror(errno));
  return fd;
}

static uint16_t local_port(int fd) {
  struct sockaddr_in a;
  socklen_t l = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &l);
  return ntohs(a.sin_port);
}

/* Sends one datagram from `from` to the shared port and returns which server socket got it. */
static int deliver(int from, uint16_t port, int servers[2]) {
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (sendto(from, "x", 1, 0, (struct sockaddr *)&to, sizeof to) != 1) FAIL("sendto");
  struct pollfd p[2] = {{.fd = servers[0], .events = POLLIN}, {.fd = servers[1], .events = POLLIN}};
  /* A wait for the datagram (a signal), not a timing assertion: 10 s only bounds a lost one. */
  if (poll(p, 2, 10000) <= 0) FAIL("datagram lost");
  char b[8];
  for (int i = 0; i < 2; i++) {
    if (p[i].revents & POLLIN) {
      recv(servers[i], b, sizeof b, 0);
      return i;
    }
  }
  FAIL("poll without data");
}

int main(void) {
  if (geteuid() != 0) {
    const char *ci = getenv("CI");
    printf("test_steer: SKIP (needs root for bpf)\n");
    return ci && strcmp(ci, "true") == 0 ? 1 : 0;
  }
  /* A free port: bind an ephemeral one, then reuse its number for the group. */
  int probe = udp_socket(0, 1);
  uint16_t port = local_port(probe);
  close(probe);
  cc_steer_t *s;
  int rc = cc_steer_open(port, 1, 2, &s);
  if (rc) FAIL("cc_steer_open: %d %s", rc, cc_xdp_last_error());
  int servers[2] = {udp_socket(port, 1), udp_socket(port, 1)};
  for (uint32_t i = 0; i < 2; i++) {
    rc = cc_steer_add_socket(s, servers[i], port, i);
    if (rc) FAIL("cc_steer_add_socket: %d %s", rc, cc_xdp_last_error());
  }
  int clients[2] = {udp_socket(0, 0), udp_socket(0, 0)};
  uint8_t lo[4] = {127, 0, 0, 1};
  for (int round = 0; round < 2; round++) {
    /* Flow entries: client c → shard (c + round) % 2. */
    for (int c = 0; c < 2; c++) {
      uint32_t want = (uint32_t)((c + round) % 2);
      if (cc_steer_set_flow(s, lo, local_port(clients[c]), port, want)) FAIL("set_flow");
    }
    for (int k = 0; k < 8; k++) {
      for (int c = 0; c < 2; c++) {
        int got = deliver(clients[c], port, servers);
        if (got != (c + round) % 2) FAIL("flow: client %d reached shard %d, not %d", c, got, (c + round) % 2);
      }
    }
    /* Port entry only: every client → shard `round`. */
    for (int c = 0; c < 2; c++) cc_steer_clear_flow(s, lo, local_port(clients[c]), port);
    if (cc_steer_set_port(s, port, (uint32_t)round)) FAIL("set_port");
    for (int k = 0; k < 8; k++) {
      for (int c = 0; c < 2; c++) {
        int got = deliver(clients[c], port, servers);
        if (got != round) FAIL("port: client %d reached shard %d, not %d", c, got, round);
      }
    }
  }
  /* Bad arguments are refused, not written. */
  if (cc_steer_set_port(s, port, 2) != -EINVAL) FAIL("shard 2 of 2 accepted");
  if (cc_steer_set_port(s, (uint16_t)(port + 1), 0) != -EINVAL) FAIL("port out of range accepted");
  uint64_t st[4];
  if (cc_steer_stats(s, st)) FAIL("stats");
  if (st[CC_STEER_STAT_FLOW] != 32 || st[CC_STEER_STAT_PORT] != 32 || st[CC_STEER_STAT_MISS]) {
    FAIL("stats flow=%llu port=%llu miss=%llu", (unsigned long long)st[0],
         (unsigned long long)st[1], (unsigned long long)st[3]);
  }
  printf("test_steer: 64 datagrams steered by flow and by port (both shards), stats agree\n");
  cc_steer_close(s);
  cc_steer_close(NULL);
  return 0;
}
