/* ffi/pkt/udp4.c: see udp4.h. Hand-written rather than taken from a library: the only packet
   libraries in Debian (libpcap, libnet, DPDK's rte_net) either do not parse from a buffer
   without their own runtime or pull a whole framework in for forty lines of header code. */
#include "udp4.h"

#include <string.h>

/* Frames are byte arrays of unknown alignment: every multi-byte read goes through these. */
static inline uint16_t ld16be(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline void st16be(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
/* Network-order values kept in host integers (as the views hold them): copy the bytes. */
static inline uint32_t ldn32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static inline uint16_t ldn16(const uint8_t *p) {
  uint16_t v;
  memcpy(&v, p, 2);
  return v;
}

uint32_t cc_csum_partial(const void *buf, size_t len, uint32_t sum) {
  const uint8_t *p = buf;
  uint64_t acc = sum;
  while (len >= 2) {
    acc += ld16be(p);
    p += 2;
    len -= 2;
  }
  if (len) acc += (uint32_t)p[0] << 8;
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return (uint32_t)acc;
}

uint16_t cc_csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  uint16_t host = (uint16_t)~sum;
  uint8_t be[2];
  st16be(be, host);
  return ldn16(be);
}

uint16_t cc_ipv4_csum(const uint8_t *hdr, size_t ihl_bytes) {
  return cc_csum_fold(cc_csum_partial(hdr, ihl_bytes, 0));
}

uint16_t cc_udp4_csum(uint32_t src_ip, uint32_t dst_ip, const uint8_t *udp, size_t udp_len) {
  uint8_t pseudo[12];
  memcpy(pseudo, &src_ip, 4);
  memcpy(pseudo + 4, &dst_ip, 4);
  pseudo[8] = 0;
  pseudo[9] = 17;
  st16be(pseudo + 10, (uint16_t)udp_len);
  uint32_t sum = cc_csum_partial(pseudo, sizeof pseudo, 0);
  sum = cc_csum_partial(udp, udp_len, sum);
  uint16_t c = cc_csum_fold(sum);
  return c == 0 ? 0xffff : c; /* RFC 768: a computed 0 is sent as all ones */
}

int cc_pkt_udp4_parse(const uint8_t *frame, size_t len, uint32_t flags, cc_udp4_view_t *out) {
  if (len < CC_ETH_HDR_LEN) return CC_PKT_ERR_TRUNCATED;
  memcpy(out->dst_mac, frame, 6);
  memcpy(out->src_mac, frame + 6, 6);
  size_t off = 12;
  uint16_t type = ld16be(frame + off);
  out->has_vlan = 0;
  out->vlan_tci = 0;
  if (type == 0x8100 || type == 0x88a8) {
    if (len < CC_ETH_HDR_LEN + CC_VLAN_HDR_LEN) return CC_PKT_ERR_TRUNCATED;
    out->has_vlan = 1;
    out->vlan_tci = ld16be(frame + off + 2);
    off += CC_VLAN_HDR_LEN;
    type = ld16be(frame + off);
  }
  off += 2;
  if (type != 0x0800) return CC_PKT_ERR_NOT_IPV4;

  /* IPv4 */
  if (len - off < CC_IPV4_HDR_MIN) return CC_PKT_ERR_TRUNCATED;
  const uint8_t *ip = frame + off;
  if ((ip[0] >> 4) != 4) return CC_PKT_ERR_BAD_IPV4;
  size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
  if (ihl < CC_IPV4_HDR_MIN) return CC_PKT_ERR_BAD_IPV4;
  size_t total = ld16be(ip + 2);
  /* Frames may carry Ethernet padding after the datagram (total < remaining), never less. */
  if (total < ihl) return CC_PKT_ERR_BAD_IPV4;
  if (total > len - off) return CC_PKT_ERR_TRUNCATED;
  uint16_t frag = ld16be(ip + 6);
  if (frag & 0x3fff) return CC_PKT_ERR_FRAGMENT; /* MF or a non-zero offset */
  if (ip[9] != 17) return CC_PKT_ERR_NOT_UDP;
  if ((flags & CC_PKT_VERIFY_IP_CSUM) && cc_ipv4_csum(ip, ihl) != 0) return CC_PKT_ERR_IP_CSUM;
  out->ttl = ip[8];
  out->src_ip = ldn32(ip + 12);
  out->dst_ip = ldn32(ip + 16);
  out->ip_off = (uint32_t)off;

  /* UDP */
  size_t ip_payload = total - ihl;
  if (ip_payload < CC_UDP_HDR_LEN) return CC_PKT_ERR_TRUNCATED;
  const uint8_t *udp = ip + ihl;
  size_t udp_len = ld16be(udp + 4);
  if (udp_len < CC_UDP_HDR_LEN || udp_len > ip_payload) return CC_PKT_ERR_BAD_UDP;
  out->src_port = ldn16(udp);
  out->dst_port = ldn16(udp + 2);
  out->udp_csum = ldn16(udp + 6);
  if ((flags & CC_PKT_VERIFY_UDP_CSUM) && out->udp_csum != 0) {
    /* Summing the segment including its checksum field gives 0 (folded, complemented)
       exactly when the checksum is right; 0xffff is how cc_udp4_csum reports that. */
    uint16_t c = cc_udp4_csum(out->src_ip, out->dst_ip, udp, udp_len);
    if (c != 0xffff) return CC_PKT_ERR_UDP_CSUM;
  }
  out->udp_off = (uint32_t)(off + ihl);
  out->payload_off = (uint32_t)(off + ihl + CC_UDP_HDR_LEN);
  out->payload_len = (uint32_t)(udp_len - CC_UDP_HDR_LEN);
  return CC_PKT_OK;
}

int cc_pkt_udp4_build_headers(uint8_t *frame, size_t cap, const cc_udp4_addr_t *addr,
                              size_t payload_len, int udp_csum) {
  if (payload_len > 0xffff - CC_IPV4_HDR_MIN - CC_UDP_HDR_LEN) return CC_PKT_ERR_BAD_ARG;
  size_t frame_len = CC_UDP4_PAYLOAD_OFF + payload_len;
  if (frame_len > cap) return CC_PKT_ERR_NO_SPACE;
  memcpy(frame, addr->dst_mac, 6);
  memcpy(frame + 6, addr->src_mac, 6);
  st16be(frame + 12, 0x0800);
  uint8_t *ip = frame + CC_ETH_HDR_LEN;
  ip[0] = 0x45;
  ip[1] = addr->tos;
  st16be(ip + 2, (uint16_t)(CC_IPV4_HDR_MIN + CC_UDP_HDR_LEN + payload_len));
  st16be(ip + 4, addr->ip_id);
  st16be(ip + 6, 0x4000); /* DF */
  ip[8] = addr->ttl ? addr->ttl : 64;
  ip[9] = 17;
  ip[10] = ip[11] = 0;
  memcpy(ip + 12, &addr->src_ip, 4);
  memcpy(ip + 16, &addr->dst_ip, 4);
  uint16_t ipc = cc_ipv4_csum(ip, CC_IPV4_HDR_MIN);
  memcpy(ip + 10, &ipc, 2);
  uint8_t *udp = ip + CC_IPV4_HDR_MIN;
  memcpy(udp, &addr->src_port, 2);
  memcpy(udp + 2, &addr->dst_port, 2);
  st16be(udp + 4, (uint16_t)(CC_UDP_HDR_LEN + payload_len));
  udp[6] = udp[7] = 0;
  if (udp_csum) {
    uint16_t c = cc_udp4_csum(addr->src_ip, addr->dst_ip, udp, CC_UDP_HDR_LEN + payload_len);
    memcpy(udp + 6, &c, 2);
  }
  return (int)frame_len;
}

int cc_pkt_udp4_build(uint8_t *frame, size_t cap, const cc_udp4_addr_t *addr,
                      const uint8_t *payload, size_t payload_len, int udp_csum) {
  if (payload_len > 0xffff - CC_IPV4_HDR_MIN - CC_UDP_HDR_LEN) return CC_PKT_ERR_BAD_ARG;
  if (CC_UDP4_PAYLOAD_OFF + payload_len > cap) return CC_PKT_ERR_NO_SPACE;
  if (payload_len) memmove(frame + CC_UDP4_PAYLOAD_OFF, payload, payload_len);
  return cc_pkt_udp4_build_headers(frame, cap, addr, payload_len, udp_csum);
}

void cc_udp4_addr_reply(const cc_udp4_view_t *rx, cc_udp4_addr_t *out) {
  memcpy(out->dst_mac, rx->src_mac, 6);
  memcpy(out->src_mac, rx->dst_mac, 6);
  out->src_ip = rx->dst_ip;
  out->dst_ip = rx->src_ip;
  out->src_port = rx->dst_port;
  out->dst_port = rx->src_port;
  out->ip_id = 0;
  out->ttl = 64;
  out->tos = 0;
}

