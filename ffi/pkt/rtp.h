/*
 * rtp.h: the minimal RTP/RTCP classification the native engines run on every datagram before
 * it enters a ring (agreed between "native" and "xdp"; ffi/pkt/ is xdp's from here on).
 *
 * cc_rtp_classify() says whether a UDP payload is a well-formed RTP version 2 packet (fixed
 * header, CSRC list, header extension and padding all inside the datagram — the same bounds
 * src/rtp/packet.ts's parseRtp checks), an RTCP packet (RFC 5761 §4: payload type byte
 * 192..223 with version 2), or neither. Bounds-checked, never reads past `len`.
 */
#ifndef CC_PKT_RTP_H
#define CC_PKT_RTP_H

#include <stdint.h>

#define CC_PKT_MALFORMED (-1)
#define CC_PKT_RTP 0
#define CC_PKT_RTCP 1

typedef struct cc_rtp_hdr {
  uint16_t seq;
  uint8_t pt;
  uint8_t marker;
  uint32_t ts;
  uint32_t ssrc;
  uint16_t payload_off; /* first payload byte */
  uint16_t payload_len; /* padding removed */
} cc_rtp_hdr_t;

/* Returns CC_PKT_RTP (and fills *h when h != NULL), CC_PKT_RTCP, or CC_PKT_MALFORMED. */
static inline int cc_rtp_classify(const uint8_t *p, uint32_t len, cc_rtp_hdr_t *h) {
  if (len < 2u || (p[0] >> 6) != 2u) return CC_PKT_MALFORMED;
  if (p[1] >= 192u && p[1] <= 223u) return len >= 8u ? CC_PKT_RTCP : CC_PKT_MALFORMED;
  if (len < 12u) return CC_PKT_MALFORMED;
  uint32_t off = 12u + 4u * (p[0] & 0x0fu);
  if (off > len) return CC_PKT_MALFORMED;
  if (p[0] & 0x10u) {
    if (off + 4u > len) return CC_PKT_MALFORMED;
    uint32_t words = ((uint32_t)p[off + 2] << 8) | p[off + 3];
    off += 4u + 4u * words;
    if (off > len) return CC_PKT_MALFORMED;
  }
  uint32_t end = len;
  if (p[0] & 0x20u) {
    uint32_t pad = p[len - 1];
    if (pad == 0u || off + pad > len) return CC_PKT_MALFORMED;
    end -= pad;
  }
  if (h) {
    h->marker = (uint8_t)(p[1] >> 7);
    h->pt = p[1] & 0x7fu;
    h->seq = (uint16_t)(((uint32_t)p[2] << 8) | p[3]);
    h->ts = ((uint32_t)p[4] << 24) | ((uint32_t)p[5] << 16) | ((uint32_t)p[6] << 8) | p[7];
    h->ssrc = ((uint32_t)p[8] << 24) | ((uint32_t)p[9] << 16) | ((uint32_t)p[10] << 8) | p[11];
    h->payload_off = (uint16_t)off;
    h->payload_len = (uint16_t)(end - off);
  }
  return CC_PKT_RTP;
}

#endif
