/* ffi/xdp/steer.c: see steer.h. */
#include "steer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../bpf/cc_bpf.h"
#include "bpf_obj.h"

struct cc_steer {
  struct bpf_object *obj;
  int prog_fd, socks_fd, ports_fd, flows_fd, stats_fd;
  struct cc_steer_cfg cfg;
};

static int map_fd(struct bpf_object *obj, const char *name) {
  struct bpf_map *m = bpf_object__find_map_by_name(obj, name);
  return m ? bpf_map__fd(m) : -1;
}

int cc_steer_open(uint16_t port_min, uint32_t nports, uint32_t nshards, cc_steer_t **out) {
  if (nports == 0 || nports > 65535u || nshards == 0 || (uint64_t)nports * nshards > CC_STEER_MAX_SOCKS ||
      (uint32_t)port_min + nports > 65536u) {
    return cc_xdp_fail(-EINVAL, "Cannot open steering: %u ports x %u shards from port %u",
                       nports, nshards, port_min);
  }
  cc_steer_t *s = calloc(1, sizeof *s);
  if (!s) return -ENOMEM;
  int rc = cc_bpf_obj_load("steer.bpf.o", &s->obj);
  if (rc) {
    free(s);
    return rc;
  }
  struct bpf_program *prog = bpf_object__find_program_by_name(s->obj, "cc_steer");
  s->prog_fd = prog ? bpf_program__fd(prog) : -1;
  s->socks_fd = map_fd(s->obj, "cc_steer_socks");
  s->ports_fd = map_fd(s->obj, "cc_steer_ports");
  s->flows_fd = map_fd(s->obj, "cc_steer_flows");
  s->stats_fd = map_fd(s->obj, "cc_steer_stats");
  int cfg_fd = map_fd(s->obj, "cc_steer_cfg");
  s->cfg = (struct cc_steer_cfg){.port_min = port_min, .nports = (uint16_t)nports,
                                 .nshards = nshards};
  uint32_t zero = 0;
  if (s->prog_fd < 0 || s->socks_fd < 0 || s->ports_fd < 0 || s->flows_fd < 0 || cfg_fd < 0 ||
      s->stats_fd < 0) {
    cc_steer_close(s);
    return cc_xdp_fail(-ENOENT, "Cannot open steering: steer.bpf.o lacks a program or map");
  }
  if (bpf_map_update_elem(cfg_fd, &zero, &s->cfg, BPF_ANY)) {
    rc = -errno;
    cc_steer_close(s);
    return cc_xdp_fail(rc, "Cannot configure steering: %s", strerror(-rc));
  }
  *out = s;
  return 0;
}

static int slot(const cc_steer_t *s, uint16_t port, uint32_t shard, uint32_t *index) {
  if (port < s->cfg.port_min || (uint32_t)(port - s->cfg.port_min) >= s->cfg.nports ||
      shard >= s->cfg.nshards) {
    return -EINVAL;
  }
  *index = (uint32_t)(port - s->cfg.port_min) * s->cfg.nshards + shard;
  return 0;
}

int cc_steer_add_socket(cc_steer_t *s, int fd, uint16_t port, uint32_t shard) {
  uint32_t index;
  if (slot(s, port, shard, &index)) {
    return cc_xdp_fail(-EINVAL, "Cannot steer port %u shard %u: out of the range", port, shard);
  }
  /* Attach first: a socket array only accepts sockets that already have a reuseport group,
     and attaching to any member sets the program of the whole group. */
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &s->prog_fd, sizeof s->prog_fd)) {
    int rc = -errno;
    return cc_xdp_fail(rc, "Cannot attach the steering program to fd %d: %s", fd, strerror(-rc));
  }
  uint64_t value = (uint64_t)fd;
  if (bpf_map_update_elem(s->socks_fd, &index, &value, BPF_ANY)) {
    int rc = -errno;
    return cc_xdp_fail(rc, "Cannot add fd %d to the steering array: %s", fd, strerror(-rc));
  }
  return 0;
}

int cc_steer_remove_socket(cc_steer_t *s, uint16_t port, uint32_t shard) {
  uint32_t index;
  if (slot(s, port, shard, &index)) return -EINVAL;
  if (bpf_map_delete_elem(s->socks_fd, &index) && errno != ENOENT) return -errno;
  return 0;
}

int cc_steer_set_port(cc_steer_t *s, uint16_t port, uint32_t shard) {
  uint32_t index;
  if (slot(s, port, shard, &index)) return -EINVAL;
  uint32_t key = port;
  return bpf_map_update_elem(s->ports_fd, &key, &shard, BPF_ANY) ? -errno : 0;
}

int cc_steer_clear_port(cc_steer_t *s, uint16_t port) {
  uint32_t key = port;
  if (bpf_map_delete_elem(s->ports_fd, &key) && errno != ENOENT) return -errno;
  return 0;
}

static struct cc_steer_flow flow_key(const uint8_t ip[4], uint16_t rport, uint16_t lport) {
  struct cc_steer_flow k;
  memset(&k, 0, sizeof k);
  memcpy(&k.remote_ip, ip, 4);
  k.remote_port = rport;
  k.local_port = lport;
  return k;
}

int cc_steer_set_flow(cc_steer_t *s, const uint8_t remote_ip[4], uint16_t remote_port,
                      uint16_t local_port, uint32_t shard) {
  uint32_t index;
  if (slot(s, local_port, shard, &index)) return -EINVAL;
  struct cc_steer_flow k = flow_key(remote_ip, remote_port, local_port);
  return bpf_map_update_elem(s->flows_fd, &k, &shard, BPF_ANY) ? -errno : 0;
}

int cc_steer_clear_flow(cc_steer_t *s, const uint8_t remote_ip[4], uint16_t remote_port,
                        uint16_t local_port) {
  struct cc_steer_flow k = flow_key(remote_ip, remote_port, local_port);
  if (bpf_map_delete_elem(s->flows_fd, &k) && errno != ENOENT) return -errno;
  return 0;
}

int cc_steer_stats(cc_steer_t *s, uint64_t out[4]) {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return ncpu ? ncpu : -EINVAL;
  uint64_t *values = calloc((size_t)ncpu, sizeof *values);
  if (!values) return -ENOMEM;
  for (uint32_t i = 0; i < CC_STEER_STAT_N; i++) {
    out[i] = 0;
    if (bpf_map_lookup_elem(s->stats_fd, &i, values) == 0) {
      for (int c = 0; c < ncpu; c++) out[i] += values[c];
    }
  }
  free(values);
  return 0;
}

void cc_steer_close(cc_steer_t *s) {
  if (!s) return;
  if (s->obj) bpf_object__close(s->obj);
  free(s);
}
