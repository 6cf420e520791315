/* bpf/xdp_rtp.bpf.c: the XDP classifier of the AF_XDP engine (ffi/xdp). IPv4/UDP datagrams to
   the RTP port range (cc_xdp_cfg) whose port a call has open (cc_xdp_ports: so a peer on the
   same host, whose ports may lie in the same range, keeps its traffic) go to the AF_XDP socket
   of the queue they arrived on (XSKMAP keyed by rx_queue_index); everything else — ARP, IPv6, SIP, fragments, IP options
   we do not need to see — is XDP_PASS to the kernel, as is our traffic when no XSK is bound on
   that queue (bpf_redirect_map's XDP_PASS fallback). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "cc_bpf.h"

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, CC_XDP_MAX_QUEUES);
  __type(key, __u32);
  __type(value, __u32);
} cc_xsks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct cc_xdp_cfg);
} cc_xdp_cfg SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 65536);
  __type(key, __u32); /* UDP port, host order */
  __type(value, __u32); /* non-zero: a call has it open */
} cc_xdp_ports SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, CC_XDP_STAT_N);
  __type(key, __u32);
  __type(value, __u64);
} cc_xdp_stats SEC(".maps");

struct vlan_hdr {
  __be16 tci;
  __be16 proto;
};

static __always_inline void count(__u32 idx) {
  __u64 *v = bpf_map_lookup_elem(&cc_xdp_stats, &idx);
  if (v) *v += 1; /* per-CPU slot: no atomics needed */
}

static __always_inline int pass(void) {
  count(CC_XDP_STAT_PASSED);
  return XDP_PASS;
}

SEC("xdp")
int cc_xdp_rtp(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end) return pass();
  __be16 proto = eth->h_proto;
  void *l3 = eth + 1;
  if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
    struct vlan_hdr *vh = l3;
    if ((void *)(vh + 1) > end) return pass();
    proto = vh->proto;
    l3 = vh + 1;
  }
  if (proto != bpf_htons(ETH_P_IP)) return pass();
  struct iphdr *ip = l3;
  if ((void *)(ip + 1) > end) return pass();
  /* Options and fragments are rare on RTP and need reassembly or more parsing: the kernel. */
  if (ip->ihl != 5 || ip->protocol != IPPROTO_UDP) return pass();
  if (ip->frag_off & bpf_htons(0x3fff)) return pass();
  struct udphdr *udp = (void *)(ip + 1);
  if ((void *)(udp + 1) > end) return pass();
  __u32 zero = 0;
  struct cc_xdp_cfg *cfg = bpf_map_lookup_elem(&cc_xdp_cfg, &zero);
  if (!cfg) return pass();
  __u16 port = bpf_ntohs(udp->dest);
  if (port < cfg->port_min || port > cfg->port_max) return pass();
  if (cfg->local_ip && ip->daddr != cfg->local_ip) return pass();
  __u32 key = port;
  __u32 *open = bpf_map_lookup_elem(&cc_xdp_ports, &key);
  if (!open || !*open) return pass();
  /* The XDP_PASS flag is returned when no XSK is bound at this queue's index. */
  int action = bpf_redirect_map(&cc_xsks, ctx->rx_queue_index, XDP_PASS);
  count(action == XDP_REDIRECT ? CC_XDP_STAT_REDIRECTED : CC_XDP_STAT_NO_XSK);
  return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
