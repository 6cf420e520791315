/* ffi/xdp/steer.h: the user side of bpf/steer.bpf.c — sk_reuseport steering of each call's
   datagrams to the socket of the shard that owns the call (used by the io_uring shards).

   Lifecycle: cc_steer_open (loads the program, sizes the socket array) → for every
   SO_REUSEPORT socket a shard binds in the range, cc_steer_add_socket right after bind() →
   cc_steer_set_port / cc_steer_set_flow as calls open and latch → cc_steer_close.
   Setup-time calls, not per packet; safe from one thread at a time (the maps themselves are
   read by the kernel concurrently, which is what they are for). */
#ifndef CC_XDP_STEER_H
#define CC_XDP_STEER_H

#include <stdint.h>

typedef struct cc_steer cc_steer_t;

/* Ports [port_min, port_min + nports), nshards sockets per port at most. nports * nshards
   must fit CC_STEER_MAX_SOCKS (65536). 0 or -errno; reason in cc_xdp_last_error(). */
int cc_steer_open(uint16_t port_min, uint32_t nports, uint32_t nshards, cc_steer_t **out);

/* Registers socket `fd` (bound, SO_REUSEPORT, UDP) as shard `shard`'s socket of `port`, and
   attaches the steering program to its reuseport group (SO_ATTACH_REUSEPORT_EBPF). */
int cc_steer_add_socket(cc_steer_t *s, int fd, uint16_t port, uint32_t shard);

/* Forgets shard `shard`'s socket of `port` (before closing it). */
int cc_steer_remove_socket(cc_steer_t *s, uint16_t port, uint32_t shard);

/* Datagrams to local `port` go to `shard` (unless a flow entry says otherwise). */
int cc_steer_set_port(cc_steer_t *s, uint16_t port, uint32_t shard);
int cc_steer_clear_port(cc_steer_t *s, uint16_t port);

/* Datagrams from remote_ip (IPv4, network order, 4 bytes) : remote_port to local_port go to
   `shard`; beats the port entry. */
int cc_steer_set_flow(cc_steer_t *s, const uint8_t remote_ip[4], uint16_t remote_port,
                      uint16_t local_port, uint32_t shard);
int cc_steer_clear_flow(cc_steer_t *s, const uint8_t remote_ip[4], uint16_t remote_port,
                        uint16_t local_port);

/* Per-reason counts summed over CPUs: out[CC_STEER_STAT_*] (bpf/cc_bpf.h), 4 values. */
int cc_steer_stats(cc_steer_t *s, uint64_t out[4]);

/* Unloads the program and frees the maps (sockets keep working with the default hash once
   the last reference is gone). NULL is a no-op. */
void cc_steer_close(cc_steer_t *s);

#endif
