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

typedef struct cc_src_probation {
  uint64_t key;      /* candidate: (ipv4 << 16 | port) or SSRC */
  uint32_t last_seq; /* 0x10000 = none (the reference's -1) */
  uint32_t run;
  uint8_t has_key;
} cc_src_probation_t;

typedef struct cc_src_filter {
  cc_src_filter_cfg_t cfg;
  /* Source latch. Addresses as (ipv4 << 16) | port, ipv4 in network order. */
  uint64_t sdp;          /* the SDP remote, RTP */
  uint32_t sdp_rtcp;     /* its RTCP port as given (0x10000 = not given) */
  uint8_t has_sdp;
  uint8_t has_remote;
  uint8_t latched;
  uint8_t new_stream_expected;
  uint64_t remote;       /* where RTP goes now / what is accepted */
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
/* The far end from signalling (SourceLatch.setRemote): ipv4 in network order; rtcp_port
   0x10000 when the SDP gave none. The same far end again keeps the latch. */
void cc_src_filter_remote(void *mem, uint32_t ipv4, uint16_t port, uint32_t rtcp_port);
/* One RTP packet from ipv4:port (network-order address) with its header fields, arriving at
   now_us. Returns CC_SF_* bits. */
uint32_t cc_src_filter_rtp(void *mem, uint32_t ipv4, uint16_t port, uint8_t pt, uint16_t seq,
                           uint32_t ssrc, uint64_t now_us);

#endif
