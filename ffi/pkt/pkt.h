/* ffi/pkt: Ethernet / IPv4 / UDP parse and build with checksums (udp4.h), and the RTP
   header parse (rtp.h), for the native RTP engines (ffi/xdp sees whole Ethernet frames; ffi/uring sees
   UDP payloads and uses only the RTP part).

   Contract of every parser here: the input is hostile. A parser reads only inside
   [buf, buf+len), never writes through its input, and returns 0 or a negative CC_PKT_ERR_*
   code; on error the output struct is unspecified. No allocation, no logging, no global
   state: safe to call from any shard thread.

   Builders write into a caller buffer of the capacity given and return the bytes written
   or a negative CC_PKT_ERR_* code; they never write past cap. */
#ifndef CC_PKT_H
#define CC_PKT_H

#include <stddef.h>
#include <stdint.h>

#define CC_PKT_OK 0
#define CC_PKT_ERR_TRUNCATED (-1101)   /* a header or a declared length runs past the buffer */
#define CC_PKT_ERR_NOT_IPV4 (-1102)    /* ethertype is not IPv4 (after at most one VLAN tag) */
#define CC_PKT_ERR_NOT_UDP (-1103)     /* IPv4 protocol is not UDP */
#define CC_PKT_ERR_BAD_IPV4 (-1104)    /* version/IHL/total length inconsistent */
#define CC_PKT_ERR_FRAGMENT (-1105)    /* MF set or fragment offset non-zero (left to the kernel) */
#define CC_PKT_ERR_IP_CSUM (-1106)     /* IPv4 header checksum wrong */
#define CC_PKT_ERR_BAD_UDP (-1107)     /* UDP length inconsistent with the IPv4 payload */
#define CC_PKT_ERR_UDP_CSUM (-1108)    /* UDP checksum present and wrong */
#define CC_PKT_ERR_BAD_VERSION (-1109) /* RTP version is not 2 */
#define CC_PKT_ERR_BAD_PADDING (-1110) /* RTP padding count 0 or longer than the payload */
#define CC_PKT_ERR_NO_SPACE (-1111)   /* builder: the frame does not fit in cap */
#define CC_PKT_ERR_BAD_ARG (-1112)    /* builder: an argument out of range */

/* Error codes are in -1101..-1112 so that they never collide with -errno or ffi/abi.h's
   CC_E* (-1001..-1099) when one travels through an FFI return value. */

/* The text of an error code ("truncated", …), for logs and tests. */
const char *cc_pkt_strerror(int err);

#endif /* CC_PKT_H */
