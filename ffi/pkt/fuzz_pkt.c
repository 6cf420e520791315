/* libFuzzer target for ffi/pkt's parsers (clang -fsanitize=fuzzer,address,undefined; run for a
   bounded number of inputs by tests/ffi/pkt_fuzz_test.ts). The input is taken both as an
   Ethernet frame and as a bare RTP packet. Besides "no crash, no out-of-bounds read" it checks
   the invariants callers rely on, and aborts (a finding) when one breaks:
   - an accepted frame's payload lies inside the input;
   - rebuilding the reply of an accepted frame and parsing it again gives the same payload,
     with both checksums verifying;
   - an accepted RTP packet's header + payload + padding adds up to its length exactly. */
#include <stdlib.h>
#include <string.h>

#include "rtp.h"
#include "udp4.h"

static void check(int cond) {
  if (!cond) abort();
}

static void fuzz_rtp(const uint8_t *data, size_t size) {
  cc_rtp_view_t r;
  if (cc_rtp_parse(data, size, &r) != CC_PKT_OK) return;
  check((size_t)r.payload_off + r.payload_len + r.padding == size);
  check(r.payload_off >= CC_RTP_HDR_MIN + 4u * r.csrc_count);
  check(!r.has_extension || (size_t)r.ext_off + r.ext_len <= r.payload_off);
  (void)cc_rtp_is_rtcp(data, size);
  cc_rtp_hdr_t h;
  if (size <= 0xffff && cc_rtp_classify(data, (uint32_t)size, &h) == CC_PKT_RTP) {
    check(h.payload_off == r.payload_off && h.payload_len == r.payload_len && h.ssrc == r.ssrc);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_rtp(data, size);
  cc_udp4_view_t v;
  int rc = cc_pkt_udp4_parse(data, size, CC_PKT_VERIFY_IP_CSUM | CC_PKT_VERIFY_UDP_CSUM, &v);
  (void)cc_pkt_strerror(rc);
  if (rc != CC_PKT_OK) rc = cc_pkt_udp4_parse(data, size, 0, &v);
  if (rc != CC_PKT_OK) return 0;
  check((size_t)v.payload_off + v.payload_len <= size);
  check(v.udp_off + CC_UDP_HDR_LEN == v.payload_off && v.ip_off >= CC_ETH_HDR_LEN);
  fuzz_rtp(data + v.payload_off, v.payload_len);
  /* Reply round trip into an exact-size buffer. */
  cc_udp4_addr_t a;
  cc_udp4_addr_reply(&v, &a);
  size_t cap = CC_UDP4_PAYLOAD_OFF + v.payload_len;
  uint8_t *out = malloc(cap);
  check(out != NULL);
  int n = cc_pkt_udp4_build(out, cap, &a, data + v.payload_off, v.payload_len, 1);
  check(n == (int)cap);
  cc_udp4_view_t w;
  check(cc_pkt_udp4_parse(out, cap, CC_PKT_VERIFY_IP_CSUM | CC_PKT_VERIFY_UDP_CSUM, &w) == 0);
  check(w.payload_len == v.payload_len && w.src_port == v.dst_port && w.dst_ip == v.src_ip);
  check(memcmp(out + w.payload_off, data + v.payload_off, v.payload_len) == 0);
  free(out);
  return 0;
}
