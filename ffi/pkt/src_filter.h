/*
 * src_filter.h: a call's RTP source filter — symmetric-RTP latching with source probation and
 * the SSRC check — as a plain state machine, for the native shards to run per packet so that
 * JS gets only the packets a session would keep.
 *
 * It mirrors, decision for decision, the TypeScript reference: `src/rtp/source_latch.ts`
 * (`SourceLatch.accept` / `setRemote`), `src/rtp/source_probation.ts` and the SSRC half of
 * `src/rtp/rtp_receiver.ts` (`receive`), in the order `RtpSession` applies them (payload type,
 * then source, then SSRC). A new source or SSRC takes over only after `probation` in-sequence
 * packets while the established one was silent for the window; one of the established
 * source's packets resets the candidate; the established one is never blacklisted.
 * tests/ffi/src_filter_test.ts feeds both the same random streams and compares every verdict.
 *
 * Addresses are IPv6, 16 bytes in network order; an IPv4 address is given IPv4-mapped
 * (::ffff:a.b.c.d, cc_sf_addr_v4), so the same peer seen by an IPv4 socket and by a
 * dual-stack IPv6 socket (which reports it mapped) is one source, never two.
 *
 * Lifecycle: cc_src_filter_init on caller-owned memory (cc_src_filter_footprint bytes, 8-byte
 * aligned) → cc_src_filter_remote as signalling sets the far end → cc_src_filter_rtp per packet.
 * Assumed: one thread per filter (the shard that owns the call); no allocation, no failure on
 * the hot path; any input values are valid (hostile packets only change the verdict).
 */
#ifndef CC_PKT_SRC_FILTER_H
#define CC_PKT_SRC_FILTER_H

#include <stddef.h>
#include <stdint.h>

/* Configuration (FFI: a 16-byte struct passed as a buffer). */
typedef struct cc_src_filter_cfg {
  uint32_t relatch_us;      /* @0  the latched source silent this long may be replaced */
  uint32_t ssrc_change_us;  /* @4  the current SSRC silent this long may be replaced */
  uint8_t probation;        /* @8  in-sequence packets a candidate needs (0 counts as 1) */
  uint8_t symmetric;        /* @9  latch onto the source (else accept the SDP remote only) */
  uint8_t pt_audio;         /* @10 negotiated payload types; 0xff = none */
  uint8_t pt_event;         /* @11 */
  uint32_t _r;              /* @12 */
} cc_src_filter_cfg_t;
_Static_assert(sizeof(cc_src_filter_cfg_t) == 16, "src filter cfg is 16 bytes");

/* Verdict bits (cc_src_filter_rtp). Exactly one of ACCEPT / DROP_* is set. */
#define CC_SF_ACCEPT 0x001u       /* a packet the session keeps */
#define CC_SF_LATCHED 0x002u      /* ... and it latched its source (first, or re-latch) */
#define CC_SF_RELATCHED 0x004u    /* ... the latch moved from an established source */
#define CC_SF_SSRC_CHANGE 0x008u  /* ... a new SSRC replaced the current one */
#define CC_SF_DROP_PT 0x100u      /* payload type not negotiated (unknownPayloadType) */
#define CC_SF_DROP_SOURCE 0x200u  /* not the source listened to (wrongSource) */
#define CC_SF_DROP_STALE 0x400u   /* another SSRC than the current one (staleSsrc) */

/* A transport address as the filter compares it: the 16 address bytes as two words (memory
   order, so comparing words compares bytes) and the port. */
typedef struct cc_sf_key {
  uint64_t hi, lo;
  uint32_t port; /* an SSRC key: the SSRC in lo, hi 0, port 0 */
  uint32_t _r;
} cc_sf_key_t;

typedef struct cc_src_probation {
  cc_sf_key_t key;   /* candidate: an address + port, or an SSRC */
  uint32_t last_seq; /* 0x10000 = none (the reference's -1) */
  uint32_t run;
  uint8_t has_key;
} cc_src_probation_t;

typedef struct cc_src_filter {
  cc_src_filter_cfg_t cfg;
  /* Source latch. */
  cc_sf_key_t sdp;       /* the SDP remote, RTP */
  uint32_t sdp_rtcp;     /* its RTCP port as given (0x10000 = not given) */
  uint8_t has_sdp;
  uint8_t has_remote;
  uint8_t latched;
  uint8_t new_stream_expected;
  cc_sf_key_t remote;    /* where RTP goes now / what is accepted */
  uint64_t last_from_remote_us;
  cc_src_probation_t addr_probation;
  /* SSRC check. */
  uint32_t remote_ssrc;
  uint8_t has_ssrc;
  uint64_t last_current_us;
  cc_src_probation_t ssrc_probation;
} cc_src_filter_t;

size_t cc_src_filter_footprint(void);
/* Formats `mem`; returns 0, or CC_EINVAL (NULL). */
int cc_src_filter_init(void *mem, const cc_src_filter_cfg_t *cfg);
/* The far end from signalling (SourceLatch.setRemote): addr16 as above; rtcp_port 0x10000
   when the SDP gave none. The same far end again keeps the latch. */
void cc_src_filter_remote(void *mem, const uint8_t addr16[16], uint16_t port, uint32_t rtcp_port);
/* One RTP packet from addr16:port with its header fields, arriving at now_us. Returns CC_SF_*
   bits. */
uint32_t cc_src_filter_rtp(void *mem, const uint8_t addr16[16], uint16_t port, uint8_t pt,
                           uint16_t seq, uint32_t ssrc, uint64_t now_us);

/* An IPv4 address (network order, as s_addr) as the filter's IPv4-mapped form. */
static inline void cc_sf_addr_v4(uint8_t out16[16], uint32_t ipv4) {
  for (int i = 0; i < 10; i++) out16[i] = 0;
  out16[10] = 0xff;
  out16[11] = 0xff;
  __builtin_memcpy(out16 + 12, &ipv4, 4);
}

#endif
