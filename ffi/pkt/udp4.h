/* ffi/pkt/udp4.h: Ethernet II (+ one VLAN tag) / IPv4 / UDP parse and build, RFC 1071
   checksums. See pkt.h for the contract every parser here keeps. */
#ifndef CC_PKT_UDP4_H
#define CC_PKT_UDP4_H

#include "pkt.h"

#define CC_ETH_HDR_LEN 14u
#define CC_VLAN_HDR_LEN 4u
#define CC_IPV4_HDR_MIN 20u
#define CC_UDP_HDR_LEN 8u
/* Offset of the UDP payload in a frame built by cc_pkt_udp4_build (no VLAN, no IP options). */
#define CC_UDP4_PAYLOAD_OFF (CC_ETH_HDR_LEN + CC_IPV4_HDR_MIN + CC_UDP_HDR_LEN)

/* Flags of cc_pkt_udp4_parse. */
#define CC_PKT_VERIFY_IP_CSUM 1u  /* check the IPv4 header checksum */
#define CC_PKT_VERIFY_UDP_CSUM 2u /* check the UDP checksum when it is not 0 */

/* A parsed Ethernet/IPv4/UDP frame. Addresses and ports are in NETWORK byte order (as on
   the wire, ready to be copied into a reply); lengths and offsets are host integers. */
typedef struct {
  uint8_t dst_mac[6];
  uint8_t src_mac[6];
  uint16_t vlan_tci;     /* 0 when untagged */
  uint8_t has_vlan;
  uint8_t ttl;
  uint32_t src_ip;       /* network order */
  uint32_t dst_ip;       /* network order */
  uint16_t src_port;     /* network order */
  uint16_t dst_port;     /* network order */
  uint32_t ip_off;       /* offset of the IPv4 header in the frame */
  uint32_t udp_off;      /* offset of the UDP header in the frame */
  uint32_t payload_off;  /* offset of the UDP payload in the frame */
  uint32_t payload_len;  /* UDP payload bytes (from the UDP length, never past the frame) */
  uint16_t udp_csum;     /* as received (0 = none) */
} cc_udp4_view_t;

/* What a builder needs to address one UDP/IPv4 frame. Network byte order, as in the view,
   so a reply is built by swapping the fields of a received view. */
typedef struct {
  uint8_t dst_mac[6];
  uint8_t src_mac[6];
  uint32_t src_ip;
  uint32_t dst_ip;
  uint16_t src_port;
  uint16_t dst_port;
  uint16_t ip_id;        /* host order */
  uint8_t ttl;           /* 0 means 64 */
  uint8_t tos;
} cc_udp4_addr_t;

/* RFC 1071 ones' complement sum of len bytes folded to 16 bits, starting from `sum`
   (a partial sum from a previous call, or 0). Not complemented. Host-order arithmetic on
   big-endian 16-bit words; an odd trailing byte is padded with zero. */
uint32_t cc_csum_partial(const void *buf, size_t len, uint32_t sum);

/* Folds a partial sum and complements it: the value to store in a checksum field, in
   network byte order as stored in memory. */
uint16_t cc_csum_fold(uint32_t sum);

/* The IPv4 header checksum of hdr (ihl*4 bytes, checksum field taken as is: returns 0 for a
   correct header when the field is included). Network-order result. */
uint16_t cc_ipv4_csum(const uint8_t *hdr, size_t ihl_bytes);

/* The UDP checksum of a UDP header + payload (udp_len bytes) with the IPv4 pseudo-header.
   The checksum field is taken as it is in memory; a result of 0 is returned as 0xffff
   (RFC 768). Network-order result. */
uint16_t cc_udp4_csum(uint32_t src_ip, uint32_t dst_ip, const uint8_t *udp, size_t udp_len);

/* Parses an Ethernet II frame (optionally one 802.1Q/802.1ad tag) carrying an IPv4 UDP
   datagram. flags: CC_PKT_VERIFY_*. */
int cc_pkt_udp4_parse(const uint8_t *frame, size_t len, uint32_t flags, cc_udp4_view_t *out);

/* Writes Ethernet + IPv4 (no options, DF set) + UDP headers for a payload of payload_len
   bytes that is ALREADY at frame + CC_UDP4_PAYLOAD_OFF (so a payload can be written in
   place into a UMEM frame), and fills both checksums. udp_csum = 0 leaves the UDP checksum
   0 (allowed for IPv4). Returns the frame length. */
int cc_pkt_udp4_build_headers(uint8_t *frame, size_t cap, const cc_udp4_addr_t *addr,
                              size_t payload_len, int udp_csum);

/* Copies payload to frame + CC_UDP4_PAYLOAD_OFF then calls cc_pkt_udp4_build_headers. The
   payload may not overlap the frame's header area. */
int cc_pkt_udp4_build(uint8_t *frame, size_t cap, const cc_udp4_addr_t *addr,
                      const uint8_t *payload, size_t payload_len, int udp_csum);

/* Swaps a received view into the address of its reply (our address becomes the source). */
void cc_udp4_addr_reply(const cc_udp4_view_t *rx, cc_udp4_addr_t *out);

#endif /* CC_PKT_UDP4_H */
