// Types for @echogarden/fvad-wasm@0.2.0 (an Emscripten build of libfvad, no types shipped).
// Signatures from fvad.h; pointers are WASM heap addresses.

/** The instantiated module. */
export interface FvadModule {
  readonly HEAP16: Int16Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  /** Fvad *fvad_new(void) — NULL on allocation failure. */
  _fvad_new(): number;
  _fvad_free(inst: number): void;
  /** int fvad_set_mode(Fvad *inst, int mode) — 0 on success, -1 for an invalid mode. */
  _fvad_set_mode(inst: number, mode: number): number;
  /** int fvad_set_sample_rate(Fvad *inst, int rate) — 8000/16000/32000/48000. */
  _fvad_set_sample_rate(inst: number, rate: number): number;
  /** int fvad_process(Fvad *inst, const int16_t *frame, size_t length) — 1 voice, 0 not, -1 error. */
  _fvad_process(inst: number, frame: number, length: number): number;
}

declare const createFvadModule: (options?: Record<string, unknown>) => Promise<FvadModule>;
export default createFvadModule;
