/* bpf/steer.bpf.c: sk_reuseport steering. Every shard binds one SO_REUSEPORT UDP socket on a
   port; this program picks, per datagram, the socket of the shard that owns the call:
   a flow entry (remote address and port → shard: a latched remote, for a port shared by
   calls) first, else a port entry (local port → shard), else nothing is selected and the
   kernel's reuseport hash chooses (SK_PASS without a selection falls back to it).
   In this program type the data starts at the UDP header; the IPv4 header is read with
   bpf_skb_load_bytes_relative from the network header. */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <stddef.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "cc_bpf.h"

struct {
  __uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
  __uint(max_entries, CC_STEER_MAX_SOCKS);
  __type(key, __u32);
  __type(value, __u64);
} cc_steer_socks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct cc_steer_cfg);
} cc_steer_cfg SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, CC_STEER_MAX_SOCKS);
  __type(key, __u32); /* local port, host order */
  __type(value, __u32);
} cc_steer_ports SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, CC_STEER_MAX_FLOWS);
  __type(key, struct cc_steer_flow);
  __type(value, __u32);
} cc_steer_flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, CC_STEER_STAT_N);
  __type(key, __u32);
  __type(value, __u64);
} cc_steer_stats SEC(".maps");

static __always_inline void count(__u32 idx) {
  __u64 *v = bpf_map_lookup_elem(&cc_steer_stats, &idx);
  if (v) *v += 1;
}

SEC("sk_reuseport")
int cc_steer(struct sk_reuseport_md *md) {
  struct udphdr udp;
  if (md->ip_protocol != IPPROTO_UDP || bpf_skb_load_bytes(md, 0, &udp, sizeof udp)) {
    count(CC_STEER_STAT_DEFAULT);
    return SK_PASS;
  }
  __u32 zero = 0;
  struct cc_steer_cfg *cfg = bpf_map_lookup_elem(&cc_steer_cfg, &zero);
  if (!cfg) return SK_PASS;
  __u16 lport = bpf_ntohs(udp.dest);
  if (lport < cfg->port_min || lport - cfg->port_min >= cfg->nports) {
    count(CC_STEER_STAT_DEFAULT);
    return SK_PASS;
  }
  __u32 *shard = 0;
  __u32 stat = CC_STEER_STAT_PORT;
  struct cc_steer_flow flow = {0};
  if (md->eth_protocol == bpf_htons(0x0800) &&
      bpf_skb_load_bytes_relative(md, offsetof(struct iphdr, saddr), &flow.remote_ip, 4,
                                  BPF_HDR_START_NET) == 0) {
    flow.remote_port = bpf_ntohs(udp.source);
    flow.local_port = lport;
    shard = bpf_map_lookup_elem(&cc_steer_flows, &flow);
    stat = CC_STEER_STAT_FLOW;
  }
  if (!shard) {
    __u32 key = lport;
    shard = bpf_map_lookup_elem(&cc_steer_ports, &key);
    stat = CC_STEER_STAT_PORT;
  }
  if (!shard || *shard >= cfg->nshards) {
    count(CC_STEER_STAT_DEFAULT);
    return SK_PASS;
  }
  __u32 index = (__u32)(lport - cfg->port_min) * cfg->nshards + *shard;
  /* Fails (-ENOENT) when that shard has no socket in this port's group: default hash. */
  if (bpf_sk_select_reuseport(md, &cc_steer_socks, &index, 0) != 0) stat = CC_STEER_STAT_MISS;
  count(stat);
  return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
