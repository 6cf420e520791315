/*
 * abi.h: what every native part of ClutchCall shares with the TypeScript bindings
 * (ffi/mod.ts): return codes, record kinds and the ABI version. Pinned by static asserts;
 * the TypeScript side checks cc_abi_version() once when it opens the library.
 */
#ifndef CC_ABI_H
#define CC_ABI_H

#include <stdint.h>

/* Bumped whenever a signature or a shared layout changes (checked by ffi/mod.ts). */
#define CC_ABI_VERSION 4u

/* Return codes: 0 ok; -errno (1..999) straight from the kernel; or one of these. */
#define CC_OK 0
#define CC_EINVAL (-1001)     /* bad argument (checked at setup, never on the hot path) */
#define CC_ENOMEM (-1002)     /* allocation failed */
#define CC_EFULL (-1003)      /* no free port in the range, no call slot, ring full */
#define CC_ESTATE (-1004)     /* wrong lifecycle state (not started, stopped, closed call) */
#define CC_ENOSUPPORT (-1005) /* this engine cannot run on this machine (see last_error) */

/* Record kinds (struct cc_rec.kind). */
#define CC_KIND_RTP 0u
#define CC_KIND_RTCP 1u

/* RX record flags (struct cc_rec.flags). */
#define CC_RX_RTCP 1u      /* the bytes look like RTCP (RFC 5761 payload type range) */
#define CC_RX_MALFORMED 2u /* neither well-formed RTP nor RTCP (still delivered) */
/* RTP of a call whose source filter runs in its shard (cc_call_filter): the shard dropped what
 * the session would drop; what is delivered carries the filter's decisions. */
#define CC_RX_FILTERED 4u
#define CC_RX_LATCHED 8u      /* ... it latched its source (first, or a re-latch) */
#define CC_RX_RELATCHED 16u   /* ... the latch moved from an established source */
#define CC_RX_SSRC_CHANGE 32u /* ... its SSRC replaced the current one */

/* Engine kinds (cc_engine_create). */
#define CC_ENGINE_URING 1
#define CC_ENGINE_XDP 2

_Static_assert(sizeof(int) == 4, "int must be 32-bit (FFI i32)");
_Static_assert(sizeof(void *) == 8, "64-bit pointers only (FFI pointer)");

uint32_t cc_abi_version(void);

#endif
