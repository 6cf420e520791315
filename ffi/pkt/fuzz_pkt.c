/* libFuzzer target for ffi/pkt's parsers (clang -fsanitize=fuzzer,address,undefined; run for a
   bounded number of inputs by tests/ffi/pkt_fuzz_test.ts). The input is taken both as an
   Ethernet frame and as a bare RTP packet. Besides "no crash, no out-of-bounds read" it checks
   the invariants callers rely on, and aborts (a finding) when one breaks:
   - an accepted frame's payload lies inside the input;
   - rebuilding the reply of an accepted frame and parsing it again gives the same payload,
     with both checksums verifying;
   - an accepted RTP packet's header + payload + padding adds up to its length exactly;
   - the source filter (src_filter.c), fed the input as a stream of 12-byte packet records,
     gives exactly one verdict per packet, and a packet it accepts (symmetric) becomes the
     source and SSRC it listens to. */
#include <stdlib.h>
#include <string.h>

#include "rtp.h"
#include "src_filter.h"
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

/* Record: [0] source (2 bits address, 2 bits port, bit 4 = a setRemote first, bit 6 = the
   address is IPv6 and bit 7 picks which half of it the 2 bits land in: IPv6 addresses that
   differ in either word, and IPv4 ones as mapped), [1] pt,
   [2..3] seq, [4..7] ssrc, [8..11] µs since the previous packet. Config from the first 4 bytes. */
static void fuzz_filter(const uint8_t *data, size_t size) {
  if (size < 4) return;
  cc_src_filter_cfg_t cfg = {.relatch_us = (uint32_t)data[0] * 4000u,
                             .ssrc_change_us = (uint32_t)data[1] * 4000u,
                             .probation = (uint8_t)(data[2] & 7u),
                             .symmetric = (uint8_t)(data[2] >> 7),
                             .pt_audio = (uint8_t)(data[3] & 0x7fu),
                             .pt_event = 101};
  cc_src_filter_t f;
  check(cc_src_filter_init(&f, &cfg) == 0);
  uint64_t now = 1000000;
  for (size_t i = 4; i + 12 <= size; i += 12) {
    const uint8_t *r = data + i;
    uint8_t ip[16];
    if (r[0] & 0x40u) {
      static const uint8_t base[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
      memcpy(ip, base, 16);
      ip[(r[0] & 0x80u) ? 15 : 7] ^= (uint8_t)((r[0] & 3u) << 1);
    } else {
      cc_sf_addr_v4(ip, 0x0100007fu + ((uint32_t)(r[0] & 3u) << 24));
    }
    uint16_t port = (uint16_t)(40000u + ((r[0] >> 2) & 3u) * 2u);
    if (r[0] & 0x10u) cc_src_filter_remote(&f, ip, port, (r[0] & 0x20u) ? 0x10000u : port + 1u);
    uint16_t seq = (uint16_t)(r[2] | r[3] << 8);
    uint32_t ssrc = (uint32_t)r[4] | (uint32_t)r[5] << 8 | (uint32_t)r[6] << 16 | (uint32_t)r[7] << 24;
    now += (uint32_t)r[8] | (uint32_t)r[9] << 8 | (uint32_t)r[10] << 16 | (uint32_t)(r[11] & 0x0f) << 24;
    uint32_t v = cc_src_filter_rtp(&f, ip, port, r[1], seq, ssrc, now);
    uint32_t kinds = v & (CC_SF_ACCEPT | CC_SF_DROP_PT | CC_SF_DROP_SOURCE | CC_SF_DROP_STALE);
    check(kinds != 0 && (kinds & (kinds - 1u)) == 0);
    check(!(v & (CC_SF_LATCHED | CC_SF_RELATCHED | CC_SF_SSRC_CHANGE)) || (v & CC_SF_ACCEPT));
    if ((v & CC_SF_ACCEPT) && cfg.symmetric) {
      check(f.latched && memcmp(&f.remote.hi, ip, 8) == 0 && memcmp(&f.remote.lo, ip + 8, 8) == 0 &&
            f.remote.port == port && f.has_ssrc && f.remote_ssrc == ssrc);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_rtp(data, size);
  fuzz_filter(data, size);
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
