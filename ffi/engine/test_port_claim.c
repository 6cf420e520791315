/* C test of the port claims (engine.c claim_port): two steering io_uring engines on one port
   range — two servers, or two test processes, on one host — must never both hold a port.
   A steered call binds its ports with SO_REUSEPORT after probing them free; the test seam
   cc_test_steered_bind_window runs in exactly that window of engine A's open and has engine
   B open a call on the same port there. B must be refused (EADDRINUSE) and A must get the
   port; without the claim, B's probe finds the port free too, B binds it, and A's sockets
   then join B's group: both opens succeed on one port (what this test catches). Then: the
   claim is released on close (B opens the port), a claim taken by anyone else makes the
   engine skip the port, and an unsteered engine honours claims as well. Needs root (bpf):
   SKIP otherwise, a failure under CI=true. Exits 1 on a failure. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine.h"

#define FAIL(...)                                     \
  do {                                                \
    fprintf(stderr, "test_port_claim: " __VA_ARGS__); \
    fprintf(stderr, "\n");                            \
    exit(1);                                          \
  } while (0)

static cc_engine_t *engine(uint32_t shards) {
  cc_engine_cfg_t cfg = {.shards = shards, .first_cpu = -1};
  cc_engine_t *e;
  int rc = cc_engine_create(CC_ENGINE_URING, &cfg, &e);
  if (rc) FAIL("cc_engine_create: %d %s", rc, cc_engine_last_error());
  if ((rc = cc_engine_start(e))) FAIL("cc_engine_start: %d %s", rc, cc_engine_last_error());
  return e;
}

/* What the seam does: the first time it runs, engine `other` opens a call on the port engine
   A is about to bind (B's own open runs the seam again: ignored). */
static cc_engine_t *other;
static int in_window, window_rc = 1;
static uint32_t window_port, window_out[3];

void cc_test_steered_bind_window(uint32_t port) {
  if (!other || in_window) return;
  in_window = 1;
  window_port = port;
  cc_call_cfg_t cc = {.ipv4 = htonl(INADDR_LOOPBACK), .port_min = (uint16_t)port,
                      .port_max = (uint16_t)(port + 1u), .port = (uint16_t)port};
  window_rc = cc_call_open(other, &cc, window_out);
  other = NULL;
}

/* An abstract unix socket with the claim's name, as another process would hold it. */
static int claim(uint32_t port) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  int n = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "clutchcall-rtp/%u", port);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa,
                     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1u + (size_t)n))) {
    FAIL("claim %u by hand: %s", port, strerror(errno));
  }
  return fd;
}

int main(void) {
  if (geteuid() != 0) {
    const char *ci = getenv("CI");
    printf("test_port_claim: SKIP (needs root for bpf)\n");
    return ci && strcmp(ci, "true") == 0 ? 1 : 0;
  }
  /* A block of ports around a free ephemeral one (the engines skip any that are taken). */
  int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (bind(probe, (struct sockaddr *)&a, sizeof a) || getsockname(probe, (struct sockaddr *)&a, &al)) {
    FAIL("ephemeral port: %s", strerror(errno));
  }
  close(probe);
  uint16_t min = (uint16_t)(ntohs(a.sin_port) & ~1u);
  if (min > 65535 - 64) min = 65535 - 64;
  uint16_t max = (uint16_t)(min + 63);

  cc_engine_t *ea = engine(2), *eb = engine(2);
  int rc;
  if ((rc = cc_engine_steer(ea, min, max))) FAIL("steer A: %d %s", rc, cc_engine_last_error());
  if ((rc = cc_engine_steer(eb, min, max))) FAIL("steer B: %d %s", rc, cc_engine_last_error());

  /* B opens on A's port in A's probe-then-bind window. */
  other = eb;
  cc_call_cfg_t cc = {.ipv4 = htonl(INADDR_LOOPBACK), .port_min = min, .port_max = max};
  uint32_t out_a[3];
  if ((rc = cc_call_open(ea, &cc, out_a))) FAIL("A open: %d %s", rc, cc_engine_last_error());
  if (!in_window) FAIL("the bind window seam never ran");
  if (window_rc == CC_OK && window_out[1] == out_a[1]) {
    FAIL("engines A and B both hold port %u (B opened it inside A's bind window)", out_a[1]);
  }
  if (window_rc != -EADDRINUSE) FAIL("B in A's window on port %u: %d, not -EADDRINUSE", window_port, window_rc);
  if (out_a[1] != window_port) FAIL("A moved from %u to %u", window_port, out_a[1]);

  /* Released on close: B now gets the port. */
  if ((rc = cc_call_close(ea, out_a[0]))) FAIL("A close: %d %s", rc, cc_engine_last_error());
  cc_call_cfg_t exact = {.ipv4 = htonl(INADDR_LOOPBACK), .port_min = min, .port_max = max,
                         .port = (uint16_t)out_a[1]};
  uint32_t out_b[3];
  if ((rc = cc_call_open(eb, &exact, out_b))) FAIL("B after A closed: %d %s", rc, cc_engine_last_error());
  /* While B holds it, A is refused the exact port and skips it in a range. */
  uint32_t out[3];
  if ((rc = cc_call_open(ea, &exact, out)) != -EADDRINUSE) FAIL("A on B's port: %d", rc);
  cc_call_cfg_t two = {.ipv4 = htonl(INADDR_LOOPBACK), .port_min = (uint16_t)out_b[1],
                       .port_max = (uint16_t)(out_b[1] + 3u)};
  if ((rc = cc_call_open(ea, &two, out))) FAIL("A next to B: %d %s", rc, cc_engine_last_error());
  if (out[1] == out_b[1]) FAIL("A took B's port %u", out[1]);
  cc_call_close(ea, out[0]);
  cc_call_close(eb, out_b[0]);

  /* A claim held elsewhere (an RTCP port: port + 1) makes the engine skip the pair, steered
     or not; rtcp-mux needs only the RTP port. */
  cc_engine_t *plain = engine(1);
  for (int k = 0; k < 2; k++) {
    cc_engine_t *e = k ? plain : ea;
    int held = claim((uint32_t)min + 1u);
    cc_call_cfg_t first = {.ipv4 = htonl(INADDR_LOOPBACK), .port_min = min, .port_max = max,
                           .port = min};
    if ((rc = cc_call_open(e, &first, out)) != -EADDRINUSE) FAIL("engine %d on a claimed pair: %d", k, rc);
    first.rtcp_mux = 1;
    if ((rc = cc_call_open(e, &first, out))) FAIL("engine %d rtcp-mux on %u: %d %s", k, min, rc, cc_engine_last_error());
    cc_call_close(e, out[0]);
    close(held);
    first.rtcp_mux = 0;
    if ((rc = cc_call_open(e, &first, out))) FAIL("engine %d after the claim went: %d %s", k, rc, cc_engine_last_error());
    cc_call_close(e, out[0]);
  }
  cc_engine_stop(plain);
  cc_engine_destroy(plain);
  cc_engine_stop(ea);
  cc_engine_destroy(ea);
  cc_engine_stop(eb);
  cc_engine_destroy(eb);
  printf("test_port_claim: engine B refused port %u inside A's bind window (A kept it); "
         "claims released on close, honoured steered and unsteered\n", window_port);
  return 0;
}
