/* C test of ffi/pkt/src_filter.c (the native source latch + SSRC probation), the cases the
   TypeScript reference's tests pin (tests/rtp/source_probation_test.ts): five spoofed packets
   lose no caller frame, a new SSRC or address takes over after 3 in-sequence packets only
   while the established one is silent, the old one can come back the same way, a session
   refresh keeps the latch, non-symmetric accepts only the SDP remote. Exits 1 on a failure. */
#include <arpa/inet.h>
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

int main(void) {
  const uint32_t caller = htonl(0xc0000201), other = htonl(0xc0000202);
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
  if (cc_src_filter_init(NULL, NULL) == 0) FAIL("init(NULL) accepted");
  printf("test_src_filter: %d verdicts as the TypeScript reference decides them\n", checks);
  return 0;
}
