/* ffi/pkt/rtp.h: the RTP header parse (RFC 3550 §5.1) the native engines run on every
   received datagram before it reaches a ring; same acceptance rules as src/rtp/packet.ts
   parseRtp. See pkt.h for the parser contract. */
#ifndef CC_PKT_RTP_H
#define CC_PKT_RTP_H

#include "pkt.h"

#define CC_RTP_HDR_MIN 12u

/* A parsed RTP header (RFC 3550 §5.1). Integers in host order. */
typedef struct {
  uint8_t marker;
  uint8_t payload_type;
  uint8_t csrc_count;
  uint8_t has_extension;
  uint16_t seq;
  uint16_t ext_profile;
  uint32_t timestamp;
  uint32_t ssrc;
  uint32_t ext_off;      /* offset of the extension data (after its 4-byte header) */
  uint32_t ext_len;      /* extension data bytes (words * 4) */
  uint32_t payload_off;  /* offset of the payload in the packet */
  uint32_t payload_len;  /* payload bytes, padding removed */
  uint8_t padding;       /* padding bytes removed (0 when the P bit is clear) */
} cc_rtp_view_t;

/* Parses an RTP packet (version 2): fixed header, CSRC list, extension, padding. */
int cc_rtp_parse(const uint8_t *pkt, size_t len, cc_rtp_view_t *out);

/* 1 when a datagram on an RTCP-multiplexed port is RTCP (RFC 5761 §4: the second byte read
   as an RTCP packet type is 192..223), else 0. Same rule as src/rtp/packet.ts isRtcpPacket. */
int cc_rtp_is_rtcp(const uint8_t *pkt, size_t len);

/* The minimal classification the native engines run on every datagram before it enters a
   ring (agreed with "native" in _notes/native.md; the same rules as cc_rtp_parse, plus RTCP
   recognised first by RFC 5761 §4 with version 2 and at least its 8-byte header). */
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

/* Returns CC_PKT_RTP (filling *h when h != NULL), CC_PKT_RTCP, or CC_PKT_MALFORMED. A UDP
   payload is at most 65507 bytes, so the 16-bit offsets cannot overflow. */
static inline int cc_rtp_classify(const uint8_t *p, uint32_t len, cc_rtp_hdr_t *h) {
  if (len < 2u || (p[0] >> 6) != 2u) return CC_PKT_MALFORMED;
  if (cc_rtp_is_rtcp(p, len)) return len >= 8u ? CC_PKT_RTCP : CC_PKT_MALFORMED;
  cc_rtp_view_t v;
  if (cc_rtp_parse(p, len, &v) != CC_PKT_OK || len > 0xffffu) return CC_PKT_MALFORMED;
  if (h) {
    h->seq = v.seq;
    h->pt = v.payload_type;
    h->marker = v.marker;
    h->ts = v.timestamp;
    h->ssrc = v.ssrc;
    h->payload_off = (uint16_t)v.payload_off;
    h->payload_len = (uint16_t)v.payload_len;
  }
  return CC_PKT_RTP;
}

#endif /* CC_PKT_RTP_H */
