/* C test of ffi/pkt/src_filter.c (the native source latch + SSRC probation), the cases the
   TypeScript reference's tests pin (tests/rtp/source_probation_test.ts): five spoofed packets
   lose no caller frame, a new SSRC or address takes over after 3 in-sequence packets only
   while the established one is silent, the old one can come back the same way, a session
   refresh keeps the latch, non-symmetric accepts only the SDP remote; and the same over IPv6:
   an address that differs in either half or only in the port is another source, an IPv4 peer
   is the same source however it is written (plain or ::ffff:-mapped, as a dual-stack socket
   reports it), and a NAT64 form of it (64:ff9b::/96) is not. Exits 1 on a failure. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>

#include "src_filter.h"

#define FAIL(...)                                     \
  do {                                                \
    fprintf(stderr, "test_src_filter: " __VA_ARGS__); \
    fprintf(stderr, "\n");                            \
    exit(1);                                          \
  } while (0)

static int checks;
#define EXPECT(got, want, what)                                                          \
  do {                                                                                   \
    uint32_t g_ = (got), w_ = (want);                                                    \
    checks++;                                                                            \
    if (g_ != w_) FAIL("%s: verdict %#x, want %#x (line %d)", what, g_, w_, __LINE__); \
  } while (0)

static cc_src_filter_t filter(int symmetric) {
  cc_src_filter_cfg_t cfg = {.relatch_us = 1000000, .ssrc_change_us = 500000, .probation = 3,
                             .symmetric = (uint8_t)symmetric, .pt_audio = 0, .pt_event = 101};
  cc_src_filter_t f;
  if (cc_src_filter_init(&f, &cfg)) FAIL("init");
  return f;
}

static uint8_t caller[16], other[16];

static uint8_t *v6(uint8_t out[16], const char *text) {
  if (inet_pton(AF_INET6, text, out) != 1) FAIL("inet_pton %s", text);
  return out;
}

static void ipv6_cases(void) {
  uint8_t a[16], b[16], c[16], m[16], p[16], nat64[16];
  v6(a, "2001:db8::1");
  v6(b, "2001:db8::2");            /* differs in the low word */
  v6(c, "2001:db9::1");            /* differs in the high word */
  v6(m, "::ffff:192.0.2.1");       /* what a dual-stack socket reports for 192.0.2.1 */
  v6(nat64, "64:ff9b::c000:201");  /* 192.0.2.1's NAT64 form: another address */
  cc_sf_addr_v4(p, htonl(0xc0000201));
  const uint64_t t = 5000000;
  /* Not symmetric, remote fixed at [2001:db8::1]:40000: only it passes. */
  cc_src_filter_t f = filter(0);
  cc_src_filter_remote(&f, a, 40000, 0x10000);
  EXPECT(cc_src_filter_rtp(&f, a, 40002, 0, 1, 7, t), CC_SF_DROP_SOURCE, "v6 other port");
  EXPECT(cc_src_filter_rtp(&f, b, 40000, 0, 2, 7, t), CC_SF_DROP_SOURCE, "v6 low word");
  EXPECT(cc_src_filter_rtp(&f, c, 40000, 0, 3, 7, t), CC_SF_DROP_SOURCE, "v6 high word");
  EXPECT(cc_src_filter_rtp(&f, m, 40000, 0, 4, 7, t), CC_SF_DROP_SOURCE, "v4-mapped vs v6");
  EXPECT(cc_src_filter_rtp(&f, a, 40000, 0, 5, 7, t), CC_SF_ACCEPT, "v6 remote");
  /* Symmetric, latched on [2001:db8::1]:40000: spoofers from a neighbour address are dropped
     even 3 in sequence while it speaks. */
  f = filter(1);
  cc_src_filter_remote(&f, a, 40000, 0x10000);
  EXPECT(cc_src_filter_rtp(&f, a, 40000, 0, 10, 7, t), CC_SF_ACCEPT | CC_SF_LATCHED, "v6 latch");
  for (uint16_t i = 0; i < 3; i++) {
    EXPECT(cc_src_filter_rtp(&f, b, 40000, 0, (uint16_t)(20 + i), 9, t + i), CC_SF_DROP_SOURCE, "v6 spoof");
  }
  EXPECT(cc_src_filter_rtp(&f, a, 40000, 0, 11, 7, t + 3), CC_SF_ACCEPT, "v6 caller still");
  /* An IPv4 remote given plain matches the peer reported mapped (the same bytes by design),
     a NAT64 spelling does not. */
  f = filter(0);
  cc_src_filter_remote(&f, p, 40000, 0x10000);
  EXPECT(cc_src_filter_rtp(&f, m, 40000, 0, 1, 7, t), CC_SF_ACCEPT, "mapped = plain v4");
  EXPECT(cc_src_filter_rtp(&f, nat64, 40000, 0, 2, 7, t), CC_SF_DROP_SOURCE, "nat64 is other");
}

int main(void) {
  cc_sf_addr_v4(caller, htonl(0xc0000201));
  cc_sf_addr_v4(other, htonl(0xc0000202));
  const uint32_t A = 0x1111, B = 0x2222;
  const uint64_t ms = 1000;

  /* Spoofing from the caller's own address: five packets of a new SSRC, interleaved with the
     caller's, are all dropped and the caller keeps every frame. */
  cc_src_filter_t f = filter(1);
  cc_src_filter_remote(&f, caller, 40000, 0x10000);
  uint64_t t = 1000 * ms;
  EXPECT(cc_src_filter_rtp(&f, caller, 40000, 0, 100, A, t), CC_SF_ACCEPT | CC_SF_LATCHED, "first");
  for (uint16_t i = 1; i <= 5; i++) {
    t += 20 * ms;
    EXPECT(cc_src_filter_rtp(&f, caller, 40000, 0, (uint16_t)(7000 + i), B, t), CC_SF_DROP_STALE, "spoof");
    EXPECT(cc_src_filter_rtp(&f, caller, 40000, 0, (uint16_t)(100 + i), A, t), CC_SF_ACCEPT, "caller");
  }
  /* The caller falls silent past the window: B needs 3 in sequence, the third takes over. */
  t += 600 * ms;
  EXPECT(cc_src_filter_rtp(&f, caller, 40000, 0, 9000, B, t), CC_SF_DROP_STALE, "b1");
  EXPECT(cc_src_filter_rtp(&f, caller, 40000, 0, 9001, B, t + 20 * ms), CC_SF_DROP_STALE, "b2");
  EXPECT(cc_src_filter_rtp(&f, caller, 40000, 0, 9002, B, t + 40 * ms), CC_SF_ACCEPT | CC_SF_SSRC_CHANGE, "b3");
  /* Out of sequence breaks a run: A back needs its own 3 in sequence after B's silence. */
  t += 1000 * ms;
  EXPECT(cc_src_filter_rtp(&f, caller, 40000, 0, 200, A, t), CC_SF_DROP_STALE, "a1");
  EXPECT(cc_src_filter_rtp(&f, caller, 40000, 0, 202, A, t), CC_SF_DROP_STALE, "a gap");
  EXPECT(cc_src_filter_rtp(&f, caller, 40000, 0, 203, A, t), CC_SF_DROP_STALE, "a2");
  EXPECT(cc_src_filter_rtp(&f, caller, 40000, 0, 204, A, t), CC_SF_ACCEPT | CC_SF_SSRC_CHANGE, "a3");
  /* Payload types the SDP did not negotiate never reach the source check. */
  EXPECT(cc_src_filter_rtp(&f, other, 5, 8, 1, A, t), CC_SF_DROP_PT, "pt");
  EXPECT(cc_src_filter_rtp(&f, caller, 40000, 101 | 0x80, 205, A, t), CC_SF_ACCEPT, "marker + event");

  /* Another address: dropped while the latched one speaks, even 3 in sequence; after its
     silence, 3 in sequence re-latch (and the new source's SSRC needs no second probation). */
  t += 10 * ms;
  for (uint16_t i = 0; i < 3; i++) {
    EXPECT(cc_src_filter_rtp(&f, other, 50000, 0, (uint16_t)(60 + i), B, t + i), CC_SF_DROP_SOURCE, "other while live");
  }
  t += 1100 * ms;
  EXPECT(cc_src_filter_rtp(&f, other, 50000, 0, 70, B, t), CC_SF_DROP_SOURCE, "o1");
  EXPECT(cc_src_filter_rtp(&f, other, 50000, 0, 71, B, t), CC_SF_DROP_SOURCE, "o2");
  EXPECT(cc_src_filter_rtp(&f, other, 50000, 0, 72, B, t),
         CC_SF_ACCEPT | CC_SF_LATCHED | CC_SF_RELATCHED | CC_SF_SSRC_CHANGE, "o3 re-latches");
  EXPECT(cc_src_filter_rtp(&f, caller, 40000, 0, 206, A, t), CC_SF_DROP_SOURCE, "old source now other");
  /* The same far end again (a refresh) keeps the latch; a new one clears it, and then the
     first source to send latches (as before anything latched). */
  cc_src_filter_remote(&f, caller, 40000, 0x10000);
  EXPECT(cc_src_filter_rtp(&f, other, 50000, 0, 73, B, t), CC_SF_ACCEPT, "refresh keeps the re-latch");
  EXPECT(cc_src_filter_rtp(&f, caller, 40000, 0, 207, A, t), CC_SF_DROP_SOURCE, "sdp address is not the latch");
  cc_src_filter_remote(&f, caller, 40002, 0x10000);
  EXPECT(cc_src_filter_rtp(&f, other, 50000, 0, 74, B, t), CC_SF_ACCEPT | CC_SF_LATCHED, "new sdp: latch");
  cc_src_filter_remote(&f, caller, 40002, 0x10000);
  EXPECT(cc_src_filter_rtp(&f, other, 50000, 0, 75, B, t), CC_SF_ACCEPT, "refresh keeps latch");

  /* Not symmetric: only the SDP remote, whatever it sends. */
  f = filter(0);
  EXPECT(cc_src_filter_rtp(&f, caller, 40000, 0, 1, A, t), CC_SF_DROP_SOURCE, "no remote yet");
  cc_src_filter_remote(&f, caller, 40000, 0x10000);
  EXPECT(cc_src_filter_rtp(&f, other, 40000, 0, 1, A, t), CC_SF_DROP_SOURCE, "other host");
  EXPECT(cc_src_filter_rtp(&f, caller, 40000, 0, 1, A, t), CC_SF_ACCEPT, "sdp remote");
  ipv6_cases();
  if (cc_src_filter_init(NULL, NULL) == 0) FAIL("init(NULL) accepted");
  printf("test_src_filter: %d verdicts as the TypeScript reference decides them\n", checks);
  return 0;
}
