/* ffi/pkt/pkt.c: see pkt.h. */
#include "pkt.h"

const char *cc_pkt_strerror(int err) {
  switch (err) {
    case CC_PKT_OK: return "ok";
    case CC_PKT_ERR_TRUNCATED: return "truncated";
    case CC_PKT_ERR_NOT_IPV4: return "not_ipv4";
    case CC_PKT_ERR_NOT_UDP: return "not_udp";
    case CC_PKT_ERR_BAD_IPV4: return "bad_ipv4";
    case CC_PKT_ERR_FRAGMENT: return "fragment";
    case CC_PKT_ERR_IP_CSUM: return "ip_checksum";
    case CC_PKT_ERR_BAD_UDP: return "bad_udp";
    case CC_PKT_ERR_UDP_CSUM: return "udp_checksum";
    case CC_PKT_ERR_BAD_VERSION: return "bad_version";
    case CC_PKT_ERR_BAD_PADDING: return "bad_padding";
    case CC_PKT_ERR_NO_SPACE: return "no_space";
    case CC_PKT_ERR_BAD_ARG: return "bad_arg";
    default: return "unknown";
  }
}
