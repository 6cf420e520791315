// Types for @echogarden/speex-resampler-wasm@0.3.0 (an Emscripten module, no types shipped).
// Signatures from speex_resampler.h; pointers and lengths are WASM heap addresses.

/** The instantiated module. */
export interface SpeexResamplerModule {
  readonly HEAP16: Int16Array;
  readonly HEAPU32: Uint32Array;
  readonly HEAP32: Int32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  /** SpeexResamplerState *speex_resampler_init(nb_channels, in_rate, out_rate, quality, int *err) */
  _speex_resampler_init(
    channels: number,
    inRate: number,
    outRate: number,
    quality: number,
    errPtr: number,
  ): number;
  _speex_resampler_destroy(state: number): void;
  /** int speex_resampler_process_int(st, channel_index, in, *in_len, out, *out_len) */
  _speex_resampler_process_int(
    state: number,
    channelIndex: number,
    inPtr: number,
    inLenPtr: number,
    outPtr: number,
    outLenPtr: number,
  ): number;
  /** int speex_resampler_process_interleaved_int(st, in, *in_len, out, *out_len) */
  _speex_resampler_process_interleaved_int(
    state: number,
    inPtr: number,
    inLenPtr: number,
    outPtr: number,
    outLenPtr: number,
  ): number;
  _speex_resampler_get_output_latency(state: number): number;
  _speex_resampler_reset_mem(state: number): number;
}

/** Instantiates the module (compiles the WASM). */
declare function createSpeexResamplerModule(): Promise<SpeexResamplerModule>;
export default createSpeexResamplerModule;
