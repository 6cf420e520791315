/* C unit tests of ffi/pkt (scripts/build_native.ts --tests; run by tests/ffi/c_unit_test.ts). Meant to be
   built with -fsanitize=address,undefined: an out-of-bounds read on hostile input aborts the run. Prints one line per check group and
   "pkt_test: N checks passed" at the end; exits 1 on the first failure. */
#include "rtp.h"
#include "udp4.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks;
#define CHECK(cond)                                                         \
  do {                                                                      \
    checks++;                                                               \
    if (!(cond)) {                                                          \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                              \
    }                                                                       \
  } while (0)

/* Copies into an exact-size heap buffer so ASan sees a read one past the end. */
static uint8_t *exact(const uint8_t *src, size_t len) {
  uint8_t *p = malloc(len ? len : 1);
  memcpy(p, src, len);
  return p;
}

static cc_udp4_addr_t sample_addr(void) {
  cc_udp4_addr_t a;
  memset(&a, 0, sizeof a);
  memcpy(a.dst_mac, "\x02\x00\x00\x00\x00\x02", 6);
  memcpy(a.src_mac, "\x02\x00\x00\x00\x00\x01", 6);
  a.src_ip = inet_addr("10.77.0.1");
  a.dst_ip = inet_addr("10.77.0.2");
  a.src_port = htons(40000);
  a.dst_port = htons(5004);
  a.ip_id = 0x1234;
  return a;
}

static void test_checksum_vectors(void) {
  /* Wikipedia's IPv4 header example: checksum 0xb861. */
  uint8_t hdr[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                     0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  uint16_t c = cc_ipv4_csum(hdr, 20);
  CHECK(ntohs(c) == 0xb861);
  memcpy(hdr + 10, &c, 2);
  CHECK(cc_ipv4_csum(hdr, 20) == 0); /* a correct header sums to zero */
  /* RFC 1071 §3 example words 0001 f203 f4f5 f6f7: sum ddf2, checksum 220d. */
  uint8_t words[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  CHECK(cc_csum_partial(words, 8, 0) == 0xddf2);
  CHECK(ntohs(cc_csum_fold(0xddf2)) == 0x220d);
  /* Odd length pads with a zero byte; split sums equal the whole (even split). */
  uint8_t odd[3] = {0x12, 0x34, 0x56};
  CHECK(cc_csum_partial(odd, 3, 0) == 0x1234 + 0x5600);
  CHECK(cc_csum_partial(words + 4, 4, cc_csum_partial(words, 4, 0)) == 0xddf2);
  /* 10.0.0.1:51000 -> 10.0.0.2:5004, payload "hi\n": the checksum against the sum of the
     pseudo-header and datagram words written out by hand (the kernel's own verdict on our
     checksums is the veth test: Linux drops UDP with a bad checksum). */
  uint8_t udp[11] = {0xc7, 0x38, 0x13, 0x8c, 0x00, 0x0b, 0x00, 0x00, 'h', 'i', '\n'};
  uint16_t uc = cc_udp4_csum(inet_addr("10.0.0.1"), inet_addr("10.0.0.2"), udp, 11);
  /* pseudo: 0a00 0001 0a00 0002 0011 000b; udp: c738 138c 000b 0000 6869 0a00 */
  uint32_t s = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 0x0011 + 0x000b + 0xc738 + 0x138c + 0x000b +
               0x6869 + 0x0a00;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  CHECK(ntohs(uc) == (uint16_t)~s);
  memcpy(udp + 6, &uc, 2);
  CHECK(cc_udp4_csum(inet_addr("10.0.0.1"), inet_addr("10.0.0.2"), udp, 11) == 0xffff);
  printf("checksum vectors ok\n");
}

static void test_build_parse_roundtrip(void) {
  cc_udp4_addr_t a = sample_addr();
  uint8_t payload[172];
  for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 7);
  uint8_t frame[256];
  int n = cc_pkt_udp4_build(frame, sizeof frame, &a, payload, sizeof payload, 1);
  CHECK(n == (int)(CC_UDP4_PAYLOAD_OFF + sizeof payload));
  uint8_t *f = exact(frame, (size_t)n);
  cc_udp4_view_t v;
  CHECK(cc_pkt_udp4_parse(f, (size_t)n, CC_PKT_VERIFY_IP_CSUM | CC_PKT_VERIFY_UDP_CSUM, &v) ==
        CC_PKT_OK);
  CHECK(v.src_ip == a.src_ip && v.dst_ip == a.dst_ip);
  CHECK(v.src_port == a.src_port && v.dst_port == a.dst_port);
  CHECK(memcmp(v.src_mac, a.src_mac, 6) == 0 && memcmp(v.dst_mac, a.dst_mac, 6) == 0);
  CHECK(v.payload_off == CC_UDP4_PAYLOAD_OFF && v.payload_len == sizeof payload);
  CHECK(memcmp(f + v.payload_off, payload, sizeof payload) == 0);
  CHECK(v.ttl == 64 && !v.has_vlan && v.udp_csum != 0);
  /* The reply of a view swaps both ends. */
  cc_udp4_addr_t r;
  cc_udp4_addr_reply(&v, &r);
  CHECK(r.src_ip == a.dst_ip && r.dst_port == a.src_port && memcmp(r.dst_mac, a.src_mac, 6) == 0);
  /* Any single flipped payload bit is caught by the UDP checksum, not by the IP one. */
  f[v.payload_off + 5] ^= 0x10;
  CHECK(cc_pkt_udp4_parse(f, (size_t)n, CC_PKT_VERIFY_UDP_CSUM, &v) == CC_PKT_ERR_UDP_CSUM);
  CHECK(cc_pkt_udp4_parse(f, (size_t)n, CC_PKT_VERIFY_IP_CSUM, &v) == CC_PKT_OK);
  f[v.payload_off + 5] ^= 0x10;
  f[CC_ETH_HDR_LEN + 8] ^= 1; /* TTL */
  CHECK(cc_pkt_udp4_parse(f, (size_t)n, CC_PKT_VERIFY_IP_CSUM, &v) == CC_PKT_ERR_IP_CSUM);
  free(f);
  /* Without a UDP checksum the field is 0 and verification skips it. */
  n = cc_pkt_udp4_build(frame, sizeof frame, &a, payload, 10, 0);
  CHECK(n > 0 && frame[CC_ETH_HDR_LEN + 20 + 6] == 0 && frame[CC_ETH_HDR_LEN + 20 + 7] == 0);
  CHECK(cc_pkt_udp4_parse(frame, (size_t)n, CC_PKT_VERIFY_UDP_CSUM, &v) == CC_PKT_OK);
  /* Builders never write past cap. */
  uint8_t small[60];
  memset(small, 0xaa, sizeof small);
  CHECK(cc_pkt_udp4_build(small, 50, &a, payload, 20, 1) == CC_PKT_ERR_NO_SPACE);
  CHECK(small[0] == 0xaa);
  CHECK(cc_pkt_udp4_build(small, 60, &a, payload, 0xffff, 1) == CC_PKT_ERR_BAD_ARG);
  CHECK(cc_pkt_udp4_build(small, 42, &a, NULL, 0, 1) == 42);
  printf("build/parse roundtrip ok\n");
}

static void test_parse_rejects(void) {
  cc_udp4_addr_t a = sample_addr();
  uint8_t frame[128];
  int n = cc_pkt_udp4_build(frame, sizeof frame, &a, (const uint8_t *)"0123456789", 10, 1);
  cc_udp4_view_t v;
  /* Every truncation of a valid frame is an error, never a read past its end. */
  for (int len = 0; len < n; len++) {
    uint8_t *f = exact(frame, (size_t)len);
    int rc = cc_pkt_udp4_parse(f, (size_t)len, CC_PKT_VERIFY_IP_CSUM | CC_PKT_VERIFY_UDP_CSUM, &v);
    CHECK(rc == CC_PKT_ERR_TRUNCATED);
    free(f);
  }
  /* Ethernet padding after the datagram is allowed (a 60-byte minimum frame). */
  uint8_t padded[60];
  memset(padded, 0, sizeof padded);
  memcpy(padded, frame, (size_t)n);
  CHECK(cc_pkt_udp4_parse(padded, 60, CC_PKT_VERIFY_UDP_CSUM, &v) == CC_PKT_OK);
  CHECK(v.payload_len == 10);
  uint8_t m[128];
#define MUTATE(off, val, expect)                                                \
  do {                                                                          \
    memcpy(m, frame, (size_t)n);                                                \
    m[off] = (val);                                                             \
    CHECK(cc_pkt_udp4_parse(m, (size_t)n, 0, &v) == (expect));                  \
  } while (0)
  MUTATE(12, 0x86, CC_PKT_ERR_NOT_IPV4);              /* 0x86dd IPv6 */
  MUTATE(14, 0x65, CC_PKT_ERR_BAD_IPV4);              /* IP version 6 */
  MUTATE(14, 0x44, CC_PKT_ERR_BAD_IPV4);              /* IHL 4 */
  MUTATE(14, 0x4f, CC_PKT_ERR_BAD_IPV4);              /* IHL 15 > total */
  MUTATE(14 + 9, 6, CC_PKT_ERR_NOT_UDP);              /* TCP */
  MUTATE(14 + 6, 0x60, CC_PKT_ERR_FRAGMENT);          /* DF|MF */
  MUTATE(14 + 7, 0x01, CC_PKT_ERR_FRAGMENT);          /* offset 8 */
  MUTATE(14 + 2, 0xff, CC_PKT_ERR_TRUNCATED);         /* total length past the frame */
  MUTATE(14 + 3, 19, CC_PKT_ERR_BAD_IPV4);            /* total length < IHL */
  MUTATE(14 + 3, 24, CC_PKT_ERR_TRUNCATED);           /* no room for UDP */
  MUTATE(14 + 20 + 5, 7, CC_PKT_ERR_BAD_UDP);         /* UDP length < 8 */
  MUTATE(14 + 20 + 5, 200, CC_PKT_ERR_BAD_UDP);       /* UDP length > IP payload */
  /* One VLAN tag is skipped, its TCI reported. */
  uint8_t tagged[132];
  memcpy(tagged, frame, 12);
  tagged[12] = 0x81; tagged[13] = 0x00; tagged[14] = 0x20; tagged[15] = 0x07;
  memcpy(tagged + 16, frame + 12, (size_t)n - 12);
  CHECK(cc_pkt_udp4_parse(tagged, (size_t)n + 4, CC_PKT_VERIFY_IP_CSUM | CC_PKT_VERIFY_UDP_CSUM,
                          &v) == CC_PKT_OK);
  CHECK(v.has_vlan && v.vlan_tci == 0x2007 && v.payload_off == CC_UDP4_PAYLOAD_OFF + 4);
  CHECK(cc_pkt_udp4_parse(tagged, 17, 0, &v) == CC_PKT_ERR_TRUNCATED);
  printf("parse rejects ok\n");
}

static void test_rtp(void) {
  cc_rtp_view_t r;
  uint8_t p[64] = {0x80, 0x88, 0x12, 0x34, 0x00, 0x00, 0x03, 0x20, 0xde, 0xad, 0xbe, 0xef};
  CHECK(cc_rtp_parse(p, 44, &r) == CC_PKT_OK);
  CHECK(r.marker == 1 && r.payload_type == 8 && r.seq == 0x1234 && r.timestamp == 800);
  CHECK(r.ssrc == 0xdeadbeef && r.payload_off == 12 && r.payload_len == 32 && r.padding == 0);
  CHECK(!r.has_extension && r.csrc_count == 0);
  /* Two CSRCs, an extension of one word, 3 bytes of padding. */
  uint8_t q[40] = {0xb2, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, /* V=2 P=1 X=1 CC=2 */
                   0, 0, 0, 4, 0, 0, 0, 5,                   /* CSRCs */
                   0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0, 0, /* extension: 1 word */
                   1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0};
  q[39] = 3;
  uint8_t *e = exact(q, 40);
  CHECK(cc_rtp_parse(e, 40, &r) == CC_PKT_OK);
  CHECK(r.csrc_count == 2 && r.has_extension && r.ext_profile == 0xbede);
  CHECK(r.ext_off == 24 && r.ext_len == 4 && r.payload_off == 28 && r.payload_len == 9);
  CHECK(r.padding == 3);
  /* Every truncation fails cleanly. */
  for (size_t len = 0; len < 28; len++) {
    uint8_t *t = exact(q, len);
    int rc = cc_rtp_parse(t, len, &r);
    CHECK(rc == CC_PKT_ERR_TRUNCATED || rc == CC_PKT_ERR_BAD_PADDING);
    free(t);
  }
  e[39] = 0;
  CHECK(cc_rtp_parse(e, 40, &r) == CC_PKT_ERR_BAD_PADDING);
  e[39] = 13; /* exactly the payload area (12 bytes) + 1 */
  CHECK(cc_rtp_parse(e, 40, &r) == CC_PKT_ERR_BAD_PADDING);
  e[39] = 12; /* the whole payload is padding */
  CHECK(cc_rtp_parse(e, 40, &r) == CC_PKT_OK && r.payload_len == 0);
  e[0] = 0x40;
  CHECK(cc_rtp_parse(e, 40, &r) == CC_PKT_ERR_BAD_VERSION);
  e[0] = 0x9f; /* CC=15: 72 bytes of CSRCs */
  CHECK(cc_rtp_parse(e, 40, &r) == CC_PKT_ERR_TRUNCATED);
  e[0] = 0x90; e[14] = 0xff; /* CC=0: extension at 12 claims 0xff04 words */
  CHECK(cc_rtp_parse(e, 40, &r) == CC_PKT_ERR_TRUNCATED);
  free(e);
  /* Padding bit on a bare header: the count byte is header, and no payload remains. */
  uint8_t h[12] = {0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  CHECK(cc_rtp_parse(h, 12, &r) == CC_PKT_ERR_BAD_PADDING);
  CHECK(strcmp(cc_pkt_strerror(CC_PKT_ERR_BAD_PADDING), "bad_padding") == 0);
  /* RTCP on a multiplexed port (RFC 5761 §4): SR 200 and RR 201 are RTCP, PT 0/8/101 RTP. */
  uint8_t sr[2] = {0x80, 200}, rr[2] = {0x81, 201}, pcma[2] = {0x80, 0x88}, ev[2] = {0x80, 101};
  CHECK(cc_rtp_is_rtcp(sr, 2) && cc_rtp_is_rtcp(rr, 2));
  CHECK(!cc_rtp_is_rtcp(pcma, 2) && !cc_rtp_is_rtcp(ev, 2) && !cc_rtp_is_rtcp(sr, 1));
  /* The engines' classification: RTP with its header, RTCP, malformed. */
  cc_rtp_hdr_t hh;
  uint8_t *g = exact(q, 40);
  g[39] = 3;
  CHECK(cc_rtp_classify(g, 40, &hh) == CC_PKT_RTP && hh.payload_off == 28 && hh.payload_len == 9);
  CHECK(hh.seq == 1 && hh.ts == 2 && hh.ssrc == 3 && hh.pt == 0 && hh.marker == 0);
  uint8_t rtcp[8] = {0x81, 201, 0, 1, 0, 0, 0, 9};
  CHECK(cc_rtp_classify(rtcp, 8, &hh) == CC_PKT_RTCP);
  CHECK(cc_rtp_classify(rtcp, 7, &hh) == CC_PKT_MALFORMED);
  g[39] = 0;
  CHECK(cc_rtp_classify(g, 40, &hh) == CC_PKT_MALFORMED);
  CHECK(cc_rtp_classify(g, 1, NULL) == CC_PKT_MALFORMED);
  free(g);
  printf("rtp ok\n");
}

int main(void) {
  test_checksum_vectors();
  test_build_parse_roundtrip();
  test_parse_rejects();
  test_rtp();
  printf("pkt_test: %d checks passed\n", checks);
  return 0;
}
