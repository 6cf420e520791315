/*
 * test_ring.c: C unit tests of the SPSC ring: setup validation, publication order, full-ring
 * back-pressure, sequence wrap, and a two-thread stress run (a producer thread and this
 * consumer) checking every payload byte. Exit code 0 = pass (run by tests/ffi/c_unit_test.ts).
 */
#define _GNU_SOURCE
#include "ring.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                           \
    }                                                                    \
  } while (0)

static void test_setup_validation(void) {
  CHECK(cc_ring_footprint(0, 2048) == 0);
  CHECK(cc_ring_footprint(3, 2048) == 0);    /* not a power of two */
  CHECK(cc_ring_footprint(8, 100) == 0);     /* slot too small */
  CHECK(cc_ring_footprint(8, 2048 + 1) == 0); /* slot not aligned */
  CHECK(cc_ring_footprint(8, 2048) == 256 + 8 * 64 + 8 * 2048);
  CHECK(cc_ring_join(NULL) == NULL);
  uint8_t junk[512] __attribute__((aligned(64)));
  memset(junk, 0xab, sizeof junk);
  CHECK(cc_ring_join(junk) == NULL); /* no magic */
  CHECK(cc_ring_new(junk + 1, 2, 2048) == NULL); /* misaligned */
  void *m = cc_ring_alloc(8, 2048);
  CHECK(m && cc_ring_join(m));
  cc_ring_free(m);
}

static void test_publish_and_full(void) {
  void *m = cc_ring_alloc(4, 2048);
  cc_ring_hdr_t *h = cc_ring_join(m);
  CHECK(cc_ring_peek(h, 0) == NULL); /* nothing published: fresh records are one lap behind */
  for (uint32_t s = 0; s < 4; s++) {
    cc_rec_t *r = cc_ring_claim(h, s);
    CHECK(r != NULL);
    CHECK(r->chunk == s * 2048u);
    cc_ring_dcache(h)[r->chunk] = (uint8_t)s;
    r->sz = 1;
    CHECK(cc_ring_peek(h, s) == NULL); /* filled but not yet published */
    cc_ring_publish(r, s);
  }
  CHECK(cc_ring_claim(h, 4) == NULL); /* full: the consumer freed nothing */
  cc_ring_flush(h, 4);
  CHECK(h->pub == 4);
  for (uint32_t s = 0; s < 4; s++) {
    cc_rec_t *r = cc_ring_peek(h, s);
    CHECK(r && cc_ring_dcache(h)[r->chunk] == (uint8_t)s);
  }
  CHECK(cc_ring_peek(h, 4) == NULL);
  cc_ring_release(h, 2);
  CHECK(cc_ring_claim(h, 4) != NULL && cc_ring_claim(h, 5) != NULL);
  CHECK(cc_ring_claim(h, 6) == NULL);
  cc_ring_free(m);
}

static void test_wrap(void) {
  void *m = cc_ring_alloc(4, 2048);
  cc_ring_hdr_t *h = cc_ring_join(m);
  /* Start just below 2^32 to cross the u32 wrap. */
  uint32_t start = 0xfffffffeu;
  h->fseq = start;
  for (uint32_t i = 0; i < 4; i++) cc_ring_rec(h, start + i)->seq = start + i - 4u;
  for (uint32_t i = 0; i < 4; i++) {
    cc_rec_t *r = cc_ring_claim(h, start + i);
    CHECK(r != NULL);
    cc_ring_publish(r, start + i);
  }
  CHECK(cc_ring_claim(h, start + 4) == NULL);
  for (uint32_t i = 0; i < 4; i++) CHECK(cc_ring_peek(h, start + i) != NULL);
  cc_ring_release(h, start + 4);
  CHECK(cc_ring_claim(h, start + 4) != NULL);
  cc_ring_free(m);
}

#define STRESS_N 300000u
static void *stress_producer(void *arg) {
  cc_ring_hdr_t *h = arg;
  for (uint32_t s = 0; s < STRESS_N; s++) {
    cc_rec_t *r;
    while (!(r = cc_ring_claim(h, s))) sched_yield();
    uint8_t *p = cc_ring_dcache(h) + r->chunk;
    uint16_t sz = (uint16_t)(12 + s % 160);
    for (uint16_t i = 0; i < sz; i++) p[i] = (uint8_t)(s ^ i);
    r->sz = sz;
    r->call = s;
    cc_ring_publish(r, s);
    if ((s & 31u) == 31u) cc_ring_flush(h, s + 1);
  }
  cc_ring_flush(h, STRESS_N);
  return NULL;
}

static void test_two_threads(void) {
  void *m = cc_ring_alloc(64, 2048);
  cc_ring_hdr_t *h = cc_ring_join(m);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, stress_producer, h) == 0);
  uint32_t s = 0;
  while (s < STRESS_N) {
    cc_rec_t *r = cc_ring_peek(h, s);
    if (!r) {
      cc_ring_release(h, s);
      uint32_t pub = __atomic_load_n(&h->pub, __ATOMIC_ACQUIRE);
      if (pub == s) cc_ring_wait(m, s, 100);
      continue;
    }
    CHECK(r->call == s);
    CHECK(r->sz == 12 + s % 160);
    const uint8_t *p = cc_ring_dcache(h) + r->chunk;
    for (uint16_t i = 0; i < r->sz; i++) CHECK(p[i] == (uint8_t)(s ^ i));
    s++;
    if ((s & 7u) == 0u) cc_ring_release(h, s);
  }
  pthread_join(t, NULL);
  CHECK(h->drops == 0);
  cc_ring_free(m);
}

int main(void) {
  test_setup_validation();
  test_publish_and_full();
  test_wrap();
  test_two_threads();
  printf("test_ring: ok\n");
  return 0;
}
