/* ffi/pkt/rtp.c: see rtp.h. */
#include "rtp.h"

static inline uint16_t ld16be(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t ld32be(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int cc_rtp_parse(const uint8_t *pkt, size_t len, cc_rtp_view_t *out) {
  if (len < CC_RTP_HDR_MIN) return CC_PKT_ERR_TRUNCATED;
  uint8_t b0 = pkt[0], b1 = pkt[1];
  if ((b0 >> 6) != 2) return CC_PKT_ERR_BAD_VERSION;
  out->csrc_count = b0 & 0x0f;
  out->marker = (b1 >> 7) & 1;
  out->payload_type = b1 & 0x7f;
  out->seq = ld16be(pkt + 2);
  out->timestamp = ld32be(pkt + 4);
  out->ssrc = ld32be(pkt + 8);
  size_t off = CC_RTP_HDR_MIN + (size_t)out->csrc_count * 4;
  if (off > len) return CC_PKT_ERR_TRUNCATED;
  out->has_extension = (b0 >> 4) & 1;
  out->ext_profile = 0;
  out->ext_off = 0;
  out->ext_len = 0;
  if (out->has_extension) {
    if (len - off < 4) return CC_PKT_ERR_TRUNCATED;
    out->ext_profile = ld16be(pkt + off);
    size_t ext_len = (size_t)ld16be(pkt + off + 2) * 4;
    if (ext_len > len - off - 4) return CC_PKT_ERR_TRUNCATED;
    out->ext_off = (uint32_t)(off + 4);
    out->ext_len = (uint32_t)ext_len;
    off += 4 + ext_len;
  }
  size_t end = len;
  out->padding = 0;
  if (b0 & 0x20) {
    uint8_t pad = pkt[len - 1];
    if (pad == 0 || pad > len - off) return CC_PKT_ERR_BAD_PADDING;
    out->padding = pad;
    end -= pad;
  }
  out->payload_off = (uint32_t)off;
  out->payload_len = (uint32_t)(end - off);
  return CC_PKT_OK;
}

int cc_rtp_is_rtcp(const uint8_t *pkt, size_t len) {
  return len >= 2 && pkt[1] >= 192 && pkt[1] <= 223;
}
