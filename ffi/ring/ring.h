/*
 * ring.h: a lock-free single-producer single-consumer ring between a native shard thread
 * and the JS thread, in the style of Firedancer's tango (mcache + dcache + fseq):
 *
 *   [ header 256 B | depth x 64 B metadata records (mcache) | depth x slot_sz payload (dcache) ]
 *
 * - The producer writes a payload into the record's dcache slot, fills the record's fields,
 *   then stores rec->seq = s with RELEASE order. That store is the publication: a consumer
 *   that ACQUIRE-loads rec->seq == s sees the fields and the payload complete.
 * - Once per batch the producer also stores hdr->pub = s + 1 (RELEASE) and, when a consumer
 *   sleeps (hdr->waiters), futex-wakes hdr->pub (and the engine-wide doorbell).
 * - The consumer, after reading a batch, stores hdr->fseq = next seq (RELEASE). The producer
 *   ACQUIRE-loads fseq before writing record s and writes only when s - fseq < depth: it never
 *   overwrites an unread record, so consumers need no overrun re-check (unlike tango's mcache,
 *   which lets fast producers overrun; a call's audio must not be torn). A full RX ring drops
 *   the new packet (hdr->drops++); a full TX ring refuses the write (CC_EFULL to JS).
 * - Sequence numbers are u32 and compared by signed difference (wrap-safe).
 * - The JS side (ffi/ring/ring.ts) reads/writes the same block through one ArrayBuffer from
 *   Deno.UnsafePointerView.getArrayBuffer and uses Atomics.load / Atomics.store on the seq,
 *   pub and fseq words: sequentially consistent, so at least acquire/release.
 *
 * Lifecycle as in tango: cc_ring_align / cc_ring_footprint / cc_ring_new (format memory) /
 * cc_ring_join (check magic) / cc_ring_delete. Validation happens there only; the hot-path
 * functions (static inline below) assume a joined ring.
 */
#ifndef CC_RING_H
#define CC_RING_H

#include <stddef.h>
#include <stdint.h>
#include "../abi.h"

#define CC_RING_MAGIC 0x3130474e49524343ull /* "CCRING01" little-endian */
#define CC_RING_ALIGN 64u
#define CC_RING_HDR_SZ 256u
#define CC_REC_SZ 64u
#define CC_RING_MIN_SLOT 2048u

typedef struct cc_ring_hdr {
  uint64_t magic;   /* @0 */
  uint32_t depth;   /* @8  records, power of two */
  uint32_t slot_sz; /* @12 payload bytes per slot */
  uint8_t _r0[48];
  /* Producer-written line. */
  uint32_t pub;     /* @64 seq of the next record to be published; futex word */
  uint32_t waiters; /* @68 consumers sleeping on pub */
  uint32_t drops;   /* @72 records dropped: ring full */
  uint8_t _r1[52];
  /* Consumer-written line. */
  uint32_t fseq; /* @128 seq of the next record the consumer will read */
  uint8_t _r2[124];
} cc_ring_hdr_t;

typedef struct cc_rec {
  uint32_t seq;   /* @0  written last (release) */
  uint32_t call;  /* @4  call handle */
  uint32_t chunk; /* @8  payload offset from the dcache start */
  uint16_t sz;    /* @12 payload bytes */
  uint8_t kind;   /* @14 CC_KIND_* */
  uint8_t flags;  /* @15 */
  uint16_t port;  /* @16 RX: source port; TX: destination (0 = the call's remote) */
  uint8_t family; /* @18 4 or 6; TX 0 = the call's remote */
  uint8_t _r1;
  uint32_t ts_us_lo; /* @20 RX: arrival, µs since the Unix epoch; TX: reserved (0) */
  uint32_t ts_us_hi; /* @24 */
  uint32_t _r2;
  uint8_t addr[16]; /* @32 IPv4 in addr[0..3] (network order) or IPv6 */
  uint8_t _r3[16];
} cc_rec_t;

_Static_assert(sizeof(cc_ring_hdr_t) == CC_RING_HDR_SZ, "ring header is 256 bytes");
_Static_assert(offsetof(cc_ring_hdr_t, pub) == 64, "pub @64");
_Static_assert(offsetof(cc_ring_hdr_t, waiters) == 68, "waiters @68");
_Static_assert(offsetof(cc_ring_hdr_t, drops) == 72, "drops @72");
_Static_assert(offsetof(cc_ring_hdr_t, fseq) == 128, "fseq @128");
_Static_assert(sizeof(cc_rec_t) == CC_REC_SZ, "record is 64 bytes");
_Static_assert(offsetof(cc_rec_t, call) == 4, "call @4");
_Static_assert(offsetof(cc_rec_t, chunk) == 8, "chunk @8");
_Static_assert(offsetof(cc_rec_t, sz) == 12, "sz @12");
_Static_assert(offsetof(cc_rec_t, kind) == 14, "kind @14");
_Static_assert(offsetof(cc_rec_t, flags) == 15, "flags @15");
_Static_assert(offsetof(cc_rec_t, port) == 16, "port @16");
_Static_assert(offsetof(cc_rec_t, family) == 18, "family @18");
_Static_assert(offsetof(cc_rec_t, ts_us_lo) == 20, "ts_us_lo @20");
_Static_assert(offsetof(cc_rec_t, addr) == 32, "addr @32");

/* Setup (validated, may log). */
size_t cc_ring_align(void);
size_t cc_ring_footprint(uint32_t depth, uint32_t slot_sz); /* 0 when the arguments are bad */
void *cc_ring_new(void *mem, uint32_t depth, uint32_t slot_sz); /* NULL when bad */
cc_ring_hdr_t *cc_ring_join(void *mem);                          /* NULL unless magic matches */
void *cc_ring_delete(void *mem);

/* Heap-allocated ring for the engines and the FFI tests (aligned, zeroed). */
void *cc_ring_alloc(uint32_t depth, uint32_t slot_sz);
void cc_ring_free(void *mem);

/* FFI test helpers: a producer thread writing `count` records of `sz` bytes for `call`
 * (payload byte i = (seq + i) & 0xff), waiting while the ring is full. */
int cc_ring_test_producer_start(void *mem, uint32_t count, uint32_t sz, uint32_t call);
int cc_ring_test_producer_join(void);
/* FFI test helper: consume everything published so far; returns records read, or -1 when a
 * payload did not match the pattern the JS writer uses (byte i = (seq * 7 + i) & 0xff). */
int cc_ring_test_consume(void *mem, uint32_t *checksum_out);

/* Futex wait on hdr->pub while it equals `seen` (consumer side, used by cc_engine_wait). */
int cc_ring_wait(void *mem, uint32_t seen, int32_t timeout_ms);

/* ---- hot path: assumed joined ring, single producer / single consumer ---- */

static inline cc_rec_t *cc_ring_rec(cc_ring_hdr_t *h, uint32_t seq) {
  return (cc_rec_t *)((uint8_t *)h + CC_RING_HDR_SZ + (size_t)(seq & (h->depth - 1u)) * CC_REC_SZ);
}
static inline uint8_t *cc_ring_dcache(cc_ring_hdr_t *h) {
  return (uint8_t *)h + CC_RING_HDR_SZ + (size_t)h->depth * CC_REC_SZ;
}
/* Producer: the record for `seq` if the consumer has freed it, else NULL (ring full).
 * Its payload slot is cc_ring_dcache(h) + rec->chunk, set here. */
static inline cc_rec_t *cc_ring_claim(cc_ring_hdr_t *h, uint32_t seq) {
  uint32_t fseq = __atomic_load_n(&h->fseq, __ATOMIC_ACQUIRE); /* pairs with the consumer's release */
  if ((int32_t)(seq - fseq) >= (int32_t)h->depth) return NULL;
  cc_rec_t *r = cc_ring_rec(h, seq);
  r->chunk = (seq & (h->depth - 1u)) * h->slot_sz;
  return r;
}
/* Producer: publish a filled record (RELEASE: fields and payload before seq). */
static inline void cc_ring_publish(cc_rec_t *r, uint32_t seq) {
  __atomic_store_n(&r->seq, seq, __ATOMIC_RELEASE);
}
/* Producer: end of a batch; next = the seq after the last one published. Wakes sleepers. */
void cc_ring_flush(cc_ring_hdr_t *h, uint32_t next);
/* Consumer: the record for `seq` if published, else NULL. (ACQUIRE pairs with publish.) */
static inline cc_rec_t *cc_ring_peek(cc_ring_hdr_t *h, uint32_t seq) {
  cc_rec_t *r = cc_ring_rec(h, seq);
  /* A record not yet written for this lap holds seq - depth (cc_ring_new starts there): != seq. */
  if (__atomic_load_n(&r->seq, __ATOMIC_ACQUIRE) != seq) return NULL;
  return r;
}
/* Consumer: free every record before `next` for reuse (RELEASE: reads before the free). */
static inline void cc_ring_release(cc_ring_hdr_t *h, uint32_t next) {
  __atomic_store_n(&h->fseq, next, __ATOMIC_RELEASE);
}

#endif
