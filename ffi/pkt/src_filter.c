/* ffi/pkt/src_filter.c: see src_filter.h (the reference is src/rtp/source_latch.ts,
   source_probation.ts and rtp_receiver.ts; keep the two in step). */
#include "src_filter.h"

#include <string.h>

#include "../abi.h"

#define NO_SEQ 0x10000u

static inline cc_sf_key_t key_of(const uint8_t addr16[16], uint32_t port) {
  cc_sf_key_t k = {.port = port};
  memcpy(&k.hi, addr16, 8);
  memcpy(&k.lo, addr16 + 8, 8);
  return k;
}

static inline int key_eq(cc_sf_key_t a, cc_sf_key_t b) {
  return ((a.hi ^ b.hi) | (a.lo ^ b.lo) | (uint64_t)(a.port ^ b.port)) == 0;
}

static void probation_reset(cc_src_probation_t *p) {
  p->has_key = 0;
  p->key = (cc_sf_key_t){0};
  p->last_seq = NO_SEQ;
  p->run = 0;
}

/* SourceProbation.offer: a packet of another candidate, or out of sequence, starts a run. */
static int probation_offer(cc_src_probation_t *p, uint32_t packets, cc_sf_key_t key, uint16_t seq) {
  if (p->has_key && key_eq(p->key, key) && (uint32_t)seq == ((p->last_seq + 1u) & 0xffffu)) {
    p->run++;
  } else {
    p->has_key = 1;
    p->key = key;
    p->run = 1;
  }
  p->last_seq = seq;
  return p->run >= packets;
}

size_t cc_src_filter_footprint(void) { return sizeof(cc_src_filter_t); }

int cc_src_filter_init(void *mem, const cc_src_filter_cfg_t *cfg) {
  if (!mem || !cfg) return CC_EINVAL;
  cc_src_filter_t *f = mem;
  memset(f, 0, sizeof *f);
  f->cfg = *cfg;
  if (f->cfg.probation == 0) f->cfg.probation = 1; /* Math.max(1, packets) */
  f->sdp_rtcp = NO_SEQ;
  probation_reset(&f->addr_probation);
  probation_reset(&f->ssrc_probation);
  return CC_OK;
}

void cc_src_filter_remote(void *mem, const uint8_t addr16[16], uint16_t port, uint32_t rtcp_port) {
  cc_src_filter_t *f = mem;
  cc_sf_key_t addr = key_of(addr16, port);
  /* A session refresh (the same far end) keeps the latch: clearing it would let any packet
     latch next. */
  if (f->has_sdp && f->latched && key_eq(f->sdp, addr) && f->sdp_rtcp == rtcp_port) return;
  f->has_sdp = 1;
  f->sdp = addr;
  f->sdp_rtcp = rtcp_port;
  probation_reset(&f->addr_probation);
  f->latched = 0;
  f->has_remote = 1;
  f->remote = addr;
}

/* SourceLatch.accept: 0 = other, 1 = same, 2 = latched, 3 = re-latched. */
static int latch_accept(cc_src_filter_t *f, cc_sf_key_t from, uint64_t now, uint16_t seq) {
  int same = f->has_remote && key_eq(f->remote, from);
  if (!f->cfg.symmetric) {
    if (!same) return 0;
    f->last_from_remote_us = now;
    return 1;
  }
  int relatch = 0;
  if (f->latched) {
    if (same) {
      f->last_from_remote_us = now;
      probation_reset(&f->addr_probation);
      return 1;
    }
    int proven = probation_offer(&f->addr_probation, f->cfg.probation, from, seq);
    /* Signed, as the reference's numbers: an arrival stamped before the last one is "silent
       for less than the window". */
    if ((int64_t)(now - f->last_from_remote_us) < (int64_t)f->cfg.relatch_us || !proven) return 0;
    probation_reset(&f->addr_probation);
    relatch = 1;
  }
  f->latched = 1;
  f->last_from_remote_us = now;
  f->has_remote = 1;
  f->remote = from;
  return relatch ? 3 : 2;
}

uint32_t cc_src_filter_rtp(void *mem, const uint8_t addr16[16], uint16_t port, uint8_t pt,
                           uint16_t seq, uint32_t ssrc, uint64_t now_us) {
  cc_src_filter_t *f = mem;
  pt &= 0x7fu;
  if (pt != f->cfg.pt_audio && pt != f->cfg.pt_event) return CC_SF_DROP_PT;
  int v = latch_accept(f, key_of(addr16, port), now_us, seq);
  if (v == 0) return CC_SF_DROP_SOURCE;
  uint32_t out = CC_SF_ACCEPT;
  if (v >= 2) {
    out |= CC_SF_LATCHED | (v == 3 ? CC_SF_RELATCHED : 0u);
    f->new_stream_expected = 1; /* its own stream: its SSRC needs no second probation */
  }
  /* RtpReceiver.receive's SSRC check. */
  int expected = f->new_stream_expected;
  f->new_stream_expected = 0;
  if (f->has_ssrc && ssrc == f->remote_ssrc) {
    f->last_current_us = now_us;
    probation_reset(&f->ssrc_probation);
    return out;
  }
  if (f->has_ssrc) {
    int proven = probation_offer(&f->ssrc_probation, f->cfg.probation, (cc_sf_key_t){.lo = ssrc}, seq);
    if (!expected &&
        (!proven || (int64_t)(now_us - f->last_current_us) < (int64_t)f->cfg.ssrc_change_us)) {
      return CC_SF_DROP_STALE;
    }
    out |= CC_SF_SSRC_CHANGE;
  }
  f->has_ssrc = 1;
  f->remote_ssrc = ssrc;
  f->last_current_us = now_us;
  probation_reset(&f->ssrc_probation);
  return out;
}
