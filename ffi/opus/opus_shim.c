/*
 * opus_shim: fixed-arity wrappers around libopus's variadic opus_encoder_ctl and
 * opus_decoder_ctl, so that Deno FFI (which cannot call variadic functions portably) can
 * reach the CTLs the codec layer uses. Everything else is called on libopus directly.
 *
 * The shim does not link against libopus: cc_opus_shim_bind() dlopen()s the very library
 * the TypeScript side opened (same path, so the loader hands back the same instance) and
 * resolves the two CTL entry points from it. Encoder and decoder states created by that
 * library are therefore always driven by the same copy of libopus.
 *
 * Build: gcc -std=gnu11 -O2 -fPIC -shared -Wall -Wextra -Werror \
 *          -o ffi/build/libopus_shim.so ffi/opus/opus_shim.c -ldl
 * (src/codecs/opus_native.ts runs this on demand.)
 */
#include <dlfcn.h>
#include <stdint.h>
#include <opus/opus.h>

/* Bumped whenever a signature below changes; checked once by the TypeScript loader. */
#define CC_OPUS_SHIM_ABI 1u

/* Pin the ABI the FFI symbol table assumes ("i32" for opus_int32, "buffer" of int16). */
_Static_assert(sizeof(opus_int32) == 4, "opus_int32 must be 32-bit");
_Static_assert(sizeof(opus_int16) == 2, "opus_int16 must be 16-bit");
_Static_assert(sizeof(int) == 4, "int must be 32-bit");

typedef int (*encoder_ctl_fn)(OpusEncoder *st, int request, ...);
typedef int (*decoder_ctl_fn)(OpusDecoder *st, int request, ...);

static encoder_ctl_fn encoder_ctl;
static decoder_ctl_fn decoder_ctl;

uint32_t cc_opus_shim_abi(void) { return CC_OPUS_SHIM_ABI; }

/* Resolves the CTL entry points from libopus at `libopus_path`. Returns 0, or -1 when the
 * library or a symbol is missing. Called once, at setup; the handle is never closed. */
int cc_opus_shim_bind(const char *libopus_path) {
  void *lib = dlopen(libopus_path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) return -1;
  *(void **)&encoder_ctl = dlsym(lib, "opus_encoder_ctl");
  *(void **)&decoder_ctl = dlsym(lib, "opus_decoder_ctl");
  return (encoder_ctl && decoder_ctl) ? 0 : -1;
}

/* Assumed for every function below: cc_opus_shim_bind() returned 0 and `st` is a live
 * state created by the same libopus. No checks on this path; libopus validates values
 * and returns OPUS_BAD_ARG. */

int cc_opus_encoder_set_bitrate(OpusEncoder *st, opus_int32 bitrate) {
  return encoder_ctl(st, OPUS_SET_BITRATE(bitrate));
}

int cc_opus_encoder_set_complexity(OpusEncoder *st, opus_int32 complexity) {
  return encoder_ctl(st, OPUS_SET_COMPLEXITY(complexity));
}

int cc_opus_encoder_set_inband_fec(OpusEncoder *st, opus_int32 enabled) {
  return encoder_ctl(st, OPUS_SET_INBAND_FEC(enabled));
}

int cc_opus_encoder_set_packet_loss_perc(OpusEncoder *st, opus_int32 percent) {
  return encoder_ctl(st, OPUS_SET_PACKET_LOSS_PERC(percent));
}

int cc_opus_encoder_set_dtx(OpusEncoder *st, opus_int32 enabled) {
  return encoder_ctl(st, OPUS_SET_DTX(enabled));
}

int cc_opus_encoder_set_max_bandwidth(OpusEncoder *st, opus_int32 bandwidth) {
  return encoder_ctl(st, OPUS_SET_MAX_BANDWIDTH(bandwidth));
}

int cc_opus_encoder_set_signal(OpusEncoder *st, opus_int32 signal) {
  return encoder_ctl(st, OPUS_SET_SIGNAL(signal));
}

int cc_opus_encoder_get_lookahead(OpusEncoder *st, opus_int32 *lookahead) {
  return encoder_ctl(st, OPUS_GET_LOOKAHEAD(lookahead));
}

int cc_opus_decoder_get_last_packet_duration(OpusDecoder *st, opus_int32 *samples) {
  return decoder_ctl(st, OPUS_GET_LAST_PACKET_DURATION(samples));
}
