/*
 * ring.c: setup of the SPSC ring (see ring.h for the layout and the memory ordering), the
 * batch flush with its futex wake, and two FFI test helpers (a producer thread and a C
 * consumer) used by tests/ffi/ring_test.ts to cross the boundary in both directions.
 */
#define _GNU_SOURCE
#include "ring.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

uint32_t cc_abi_version(void) { return CC_ABI_VERSION; }

size_t cc_ring_align(void) { return CC_RING_ALIGN; }

size_t cc_ring_footprint(uint32_t depth, uint32_t slot_sz) {
  if (depth < 2u || (depth & (depth - 1u)) != 0u || depth > (1u << 20)) return 0;
  if (slot_sz < CC_RING_MIN_SLOT || slot_sz > 65536u || (slot_sz % CC_RING_ALIGN) != 0u) return 0;
  return CC_RING_HDR_SZ + (size_t)depth * CC_REC_SZ + (size_t)depth * slot_sz;
}

void *cc_ring_new(void *mem, uint32_t depth, uint32_t slot_sz) {
  size_t footprint = cc_ring_footprint(depth, slot_sz);
  if (!mem || !footprint || ((uintptr_t)mem % CC_RING_ALIGN) != 0u) return NULL;
  memset(mem, 0, CC_RING_HDR_SZ + (size_t)depth * CC_REC_SZ);
  cc_ring_hdr_t *h = mem;
  h->depth = depth;
  h->slot_sz = slot_sz;
  /* Every record starts one lap behind, so seq i is "not yet published" at record i. */
  for (uint32_t i = 0; i < depth; i++) cc_ring_rec(h, i)->seq = i - depth;
  __atomic_store_n(&h->magic, CC_RING_MAGIC, __ATOMIC_RELEASE);
  return mem;
}

cc_ring_hdr_t *cc_ring_join(void *mem) {
  if (!mem) return NULL;
  cc_ring_hdr_t *h = mem;
  if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != CC_RING_MAGIC) return NULL;
  return h;
}

void *cc_ring_delete(void *mem) {
  cc_ring_hdr_t *h = cc_ring_join(mem);
  if (!h) return NULL;
  __atomic_store_n(&h->magic, 0ull, __ATOMIC_RELEASE);
  return mem;
}

void *cc_ring_alloc(uint32_t depth, uint32_t slot_sz) {
  size_t footprint = cc_ring_footprint(depth, slot_sz);
  if (!footprint) return NULL;
  void *mem = NULL;
  if (posix_memalign(&mem, 4096, footprint) != 0) return NULL;
  memset(mem, 0, footprint);
  return cc_ring_new(mem, depth, slot_sz);
}

void cc_ring_free(void *mem) {
  if (cc_ring_delete(mem)) free(mem);
}

static long futex(uint32_t *word, int op, uint32_t val, const struct timespec *timeout) {
  return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

void cc_ring_flush(cc_ring_hdr_t *h, uint32_t next) {
  /* SEQ_CST store (at least RELEASE: every record before `next` is published before pub says
   * so) then SEQ_CST load of waiters: a consumer increments waiters, then re-reads pub before
   * sleeping (Dekker pattern), so one of the two sides always sees the other's write. */
  __atomic_store_n(&h->pub, next, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&h->waiters, __ATOMIC_SEQ_CST) != 0u) {
    futex(&h->pub, FUTEX_WAKE, INT32_MAX, NULL);
  }
}

int cc_ring_wait(void *mem, uint32_t seen, int32_t timeout_ms) {
  cc_ring_hdr_t *h = cc_ring_join(mem);
  if (!h) return CC_EINVAL;
  __atomic_fetch_add(&h->waiters, 1u, __ATOMIC_SEQ_CST);
  int rc = 0;
  if (__atomic_load_n(&h->pub, __ATOMIC_SEQ_CST) == seen) {
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
    if (futex(&h->pub, FUTEX_WAIT, seen, timeout_ms < 0 ? NULL : &ts) != 0) {
      rc = errno == ETIMEDOUT ? -ETIMEDOUT : 0; /* EAGAIN: pub moved already; EINTR: retry by caller */
    }
  }
  __atomic_fetch_sub(&h->waiters, 1u, __ATOMIC_SEQ_CST);
  return rc;
}

/* ---- FFI test helpers ---- */

struct producer_args {
  cc_ring_hdr_t *h;
  uint32_t count, sz, call;
};
static pthread_t producer_thread;
static struct producer_args producer_args;
static int producer_running;

static void *producer_main(void *arg) {
  struct producer_args *a = arg;
  cc_ring_hdr_t *h = a->h;
  uint32_t seq = __atomic_load_n(&h->pub, __ATOMIC_ACQUIRE);
  for (uint32_t n = 0; n < a->count; n++, seq++) {
    cc_rec_t *r;
    while (!(r = cc_ring_claim(h, seq))) {
      cc_ring_flush(h, seq); /* make sure the consumer sees what is there, then yield */
      sched_yield();
    }
    uint8_t *p = cc_ring_dcache(h) + r->chunk;
    for (uint32_t i = 0; i < a->sz; i++) p[i] = (uint8_t)(seq + i);
    r->call = a->call;
    r->sz = (uint16_t)a->sz;
    r->kind = CC_KIND_RTP;
    r->flags = 0;
    r->port = (uint16_t)(n & 0xffff);
    r->family = 4;
    r->ts_us_lo = n;
    r->ts_us_hi = 0;
    cc_ring_publish(r, seq);
    if ((n & 15u) == 15u) cc_ring_flush(h, seq + 1);
  }
  cc_ring_flush(h, seq);
  return NULL;
}

int cc_ring_test_producer_start(void *mem, uint32_t count, uint32_t sz, uint32_t call) {
  cc_ring_hdr_t *h = cc_ring_join(mem);
  if (!h || producer_running || sz > h->slot_sz) return CC_EINVAL;
  producer_args = (struct producer_args){h, count, sz, call};
  int rc = pthread_create(&producer_thread, NULL, producer_main, &producer_args);
  if (rc != 0) return -rc;
  producer_running = 1;
  return CC_OK;
}

int cc_ring_test_producer_join(void) {
  if (!producer_running) return CC_ESTATE;
  pthread_join(producer_thread, NULL);
  producer_running = 0;
  return CC_OK;
}

int cc_ring_test_consume(void *mem, uint32_t *checksum_out) {
  cc_ring_hdr_t *h = cc_ring_join(mem);
  if (!h) return CC_EINVAL;
  uint32_t seq = __atomic_load_n(&h->fseq, __ATOMIC_RELAXED);
  int n = 0;
  uint32_t sum = checksum_out ? *checksum_out : 0u;
  cc_rec_t *r;
  while ((r = cc_ring_peek(h, seq))) {
    const uint8_t *p = cc_ring_dcache(h) + r->chunk;
    for (uint32_t i = 0; i < r->sz; i++) {
      if (p[i] != (uint8_t)(seq * 7u + i)) return -1;
      sum = sum * 31u + p[i];
    }
    seq++;
    n++;
  }
  cc_ring_release(h, seq);
  if (checksum_out) *checksum_out = sum;
  return n;
}
