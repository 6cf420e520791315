/* Sends hand-made hostile Ethernet frames out of <ifname> through an AF_PACKET socket (so no
   kernel stack fixes them on the way), for tests/ffi/xdp_engine_test.ts:

     _hostile_frames <ifname> <dst_mac aa:bb:..> <src_ip> <dst_ip> <dst_port>

   Prints how many frames it sent that the XDP program redirects to the engine (IPv4, IHL 5, UDP,
   not a fragment, to the call port) and that the engine must then count as malformed, as
   "redirected_malformed=N"; of those, "rtp_malformed=K" are whole UDP datagrams whose RTP is
   broken (handed to JS flagged CC_RX_MALFORMED, as every engine does); then "sent=M". Frames
   built with ffi/pkt, then broken. */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../ffi/pkt/udp4.h"

static int fd, ifindex, sent;
static void send_frame(const uint8_t *f, size_t len) {
  struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6};
  memcpy(to.sll_addr, f, 6);
  if (sendto(fd, f, len, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)len) {
    perror("sendto");
    exit(1);
  }
  sent++;
}

int main(int argc, char **argv) {
  if (argc != 6) return 2;
  ifindex = (int)if_nametoindex(argv[1]);
  fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0 || !ifindex) {
    perror("socket");
    return 1;
  }
  cc_udp4_addr_t a;
  memset(&a, 0, sizeof a);
  unsigned m[6];
  sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
  for (int i = 0; i < 6; i++) a.dst_mac[i] = (uint8_t)m[i];
  memcpy(a.src_mac, "\x02\xcc\x00\x00\x00\x01", 6);
  a.src_ip = inet_addr(argv[3]);
  a.dst_ip = inet_addr(argv[4]);
  a.src_port = htons(40404);
  a.dst_port = htons((uint16_t)atoi(argv[5]));
  uint8_t rtp[172] = {0x80, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0x5e, 0xed};
  uint8_t f[256], g[256];
  int n = cc_pkt_udp4_build(f, sizeof f, &a, rtp, sizeof rtp, 1);
  const int ip = 14, udp = 34, pay = 42;
  int malformed = 0, rtp_malformed = 0;
#define VARIANT(len, redirected, ...) \
  do {                                \
    memcpy(g, f, (size_t)n);          \
    __VA_ARGS__;                      \
    send_frame(g, (size_t)(len));     \
    malformed += (redirected) != 0;   \
    rtp_malformed += (redirected) == 2; \
  } while (0)
  VARIANT(n, 1, g[ip + 10] ^= 0xff);                                  /* IP checksum wrong */
  VARIANT(pay + 4, 1, (void)0);                                       /* total length past the frame */
  VARIANT(n, 1, g[udp + 4] = 0x7f);                                   /* UDP length past the IP payload */
  VARIANT(n, 1, g[udp + 4] = 0; g[udp + 5] = 4);                      /* UDP length 4 < 8 */
  VARIANT(n, 2, g[pay] = 0x40);                                       /* RTP version 1 */
  VARIANT(n, 2, g[pay] = 0xa0; g[n - 1] = 0xff);                      /* padding past the payload */
  VARIANT(pay + 20, 2, g[pay] = 0x8f; g[udp + 4] = 0; g[udp + 5] = 28;
          g[ip + 2] = 0; g[ip + 3] = 48; g[ip + 10] = g[ip + 11] = 0;
          { uint16_t c = cc_ipv4_csum(g + ip, 20); memcpy(g + ip + 10, &c, 2); }); /* 15 CSRCs in 20 bytes */  VARIANT(n, 0, g[ip + 6] = 0x20; g[ip + 10] = g[ip + 11] = 0;
          { uint16_t c = cc_ipv4_csum(g + ip, 20); memcpy(g + ip + 10, &c, 2); }); /* MF: kernel */
  VARIANT(14 + 10, 0, (void)0);                                       /* 10 bytes of IPv4: kernel */
  VARIANT(20, 0, g[12] = 0x86; g[13] = 0xdd);                         /* IPv6 type, 6 bytes */
  VARIANT(14, 0, (void)0);                                            /* Ethernet header only */
  printf("redirected_malformed=%d\nrtp_malformed=%d\nsent=%d\n", malformed, rtp_malformed, sent);
  return 0;
}
