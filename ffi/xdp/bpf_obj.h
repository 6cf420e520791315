/* ffi/xdp/bpf_obj.h: finding and loading the BPF objects built from bpf/ (ffi/build/bpf/NAME.bpf.o),
   and the setup-time error text of the kernel-bypass parts. Setup only: nothing here runs on
   a packet. */
#ifndef CC_XDP_BPF_OBJ_H
#define CC_XDP_BPF_OBJ_H

#include <stddef.h>

struct bpf_object;

/* Writes the path of bpf object `name` (e.g. "steer.bpf.o") into out: $CLUTCH_BPF_DIR/name if
   the variable is set, else <dir of the loaded libclutch_native.so>/bpf/name, else (a test
   binary in ffi/build/test/) <dir of the executable>/../bpf/name — the first that exists.
   Returns 0, or -ENOENT with the places tried in cc_xdp_last_error(). */
int cc_bpf_obj_path(const char *name, char *out, size_t cap);

/* Opens and loads bpf object `name` (found as above). Returns 0 and *out, or a negative errno
   with the reason (libbpf's and the verifier's first lines included) in cc_xdp_last_error(). */
int cc_bpf_obj_load(const char *name, struct bpf_object **out);

/* The reason of the last failed setup call on this thread ("" when none). */
const char *cc_xdp_last_error(void);

/* Sets that reason (printf format). Returns `rc` so callers can `return cc_xdp_fail(rc, …)`. */
int cc_xdp_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
