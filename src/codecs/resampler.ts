/**
 * Stateful sample-rate conversion between 8, 16, 24 and 48 kHz on the Speex resampler
 * (`npm:@echogarden/speex-resampler-wasm`, SIMD build).
 *
 * @module
 */
// @ts-types="./speex_resampler_wasm.d.ts"
import createSpeexResamplerModule from "@echogarden/speex-resampler-wasm/simd";
import type { SpeexResamplerModule } from "./speex_resampler_wasm.d.ts";
import { CodecError } from "./error.ts";

/**
 * Sample rates a {@linkcode Resampler} converts between.
 *
 * @example
 * ```ts
 * import type { ResamplerRate } from "@clutchcall/voice/codecs";
 * const wideband: ResamplerRate = 16000;
 * ```
 */
export type ResamplerRate = 8000 | 16000 | 24000 | 48000;
/**
 * The rates a {@linkcode Resampler} converts between.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { RESAMPLER_RATES } from "@clutchcall/voice/codecs";
 * assert(RESAMPLER_RATES.includes(24000));
 * ```
 */
export const RESAMPLER_RATES: readonly ResamplerRate[] = [8000, 16000, 24000, 48000];

/**
 * Default Speex quality, 4 (of 0–10; Speex's own default, one above its "VoIP" 3).
 * Measured through this module on 48 → 8 kHz: quality 2 leaves a 6 kHz tone at −80 dB,
 * from 3 up it rounds to digital silence, and 1 kHz passes within 0.01 dB. What 4 buys
 * over 3 is a wider passband (edge at 0.895 × Nyquist = 3.58 kHz at 8 kHz, vs 3.53 kHz),
 * i.e. less dulling at the top of the 300–3400 Hz telephone band, for ~5 µs more per
 * 20 ms frame (~18 µs at 48 → 8 kHz, see BENCHMARKS.md). Above 5 the filter grows for a
 * stopband no G.711 or Opus voice path can use.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createResampler, DEFAULT_RESAMPLER_QUALITY } from "@clutchcall/voice/codecs";
 * using r = await createResampler({ inputRate: 48000, outputRate: 8000 });
 * assertEquals(r.quality, DEFAULT_RESAMPLER_QUALITY);
 * ```
 */
export const DEFAULT_RESAMPLER_QUALITY = 4;

/**
 * Options of {@linkcode createResampler}.
 *
 * @example
 * ```ts
 * import { createResampler, type ResamplerOptions } from "@clutchcall/voice/codecs";
 * const options: ResamplerOptions = { inputRate: 16000, outputRate: 8000, quality: 3 };
 * using resampler = await createResampler(options);
 * ```
 */
export interface ResamplerOptions {
  /** Input rate. */
  readonly inputRate: ResamplerRate;
  /** Output rate. */
  readonly outputRate: ResamplerRate;
  /** Interleaved channel count (default 1). */
  readonly channels?: 1 | 2;
  /** Speex quality 0–10 (default {@linkcode DEFAULT_RESAMPLER_QUALITY}). */
  readonly quality?: number;
}

/**
 * Converts a stream of PCM16 chunks from one rate to another, carrying the filter state
 * across calls so that chunk edges leave no trace: the output of many small chunks equals
 * the output of their concatenation.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createResampler, type Resampler } from "@clutchcall/voice/codecs";
 * using down: Resampler = await createResampler({ inputRate: 48000, outputRate: 16000 });
 * assertEquals(down.process(new Int16Array(960)).length, 320);
 * ```
 */
export interface Resampler extends Disposable {
  /** Input rate. */
  readonly inputRate: ResamplerRate;
  /** Output rate. */
  readonly outputRate: ResamplerRate;
  /** Channel count. */
  readonly channels: 1 | 2;
  /** Speex quality in use. */
  readonly quality: number;
  /**
   * Resamples a chunk (interleaved). Returns every output sample the input completes: for
   * chunks whose length is a multiple of the rate ratio (e.g. 20 ms frames) that is
   * exactly `length × outputRate / inputRate`.
   */
  process(input: Int16Array): Int16Array;
  /** Frees the WASM state. Closing twice is a no-op. */
  close(): void;
}

/** Input samples per channel handed to Speex per call: 100 ms at 48 kHz. */
const CHUNK_FRAMES = 4800;

let modulePromise: Promise<SpeexResamplerModule> | undefined;

/**
 * Makes a resampler (the WASM module is compiled on the first call). When the rates are
 * equal, `process` copies.
 *
 * @throws {RangeError} on an unsupported rate, channel count or quality.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createResampler } from "@clutchcall/voice/codecs";
 * using up = await createResampler({ inputRate: 8000, outputRate: 48000 });
 * const frame48k = up.process(new Int16Array(160)); // 20 ms in, 20 ms out
 * assertEquals(frame48k.length, 960);
 * ```
 */
export async function createResampler(options: ResamplerOptions): Promise<Resampler> {
  const { inputRate, outputRate, channels = 1, quality = DEFAULT_RESAMPLER_QUALITY } = options;
  for (const rate of [inputRate, outputRate]) {
    if (!RESAMPLER_RATES.includes(rate)) {
      throw new RangeError(`Invalid resampler rate: ${rate} (use 8000, 16000, 24000 or 48000)`);
    }
  }
  if (channels !== 1 && channels !== 2) {
    throw new RangeError(`Invalid resampler channel count: ${channels}`);
  }
  if (!Number.isInteger(quality) || quality < 0 || quality > 10) {
    throw new RangeError(`Invalid resampler quality: ${quality} (expected 0–10)`);
  }
  if (inputRate === outputRate) {
    return new PassThrough(inputRate, channels, quality);
  }
  const m = await (modulePromise ??= createSpeexResamplerModule());
  return new SpeexResampler(m, inputRate, outputRate, channels, quality);
}

const registry = new FinalizationRegistry<() => void>((free) => free());

class SpeexResampler implements Resampler {
  readonly inputRate: ResamplerRate;
  readonly outputRate: ResamplerRate;
  readonly channels: 1 | 2;
  readonly quality: number;
  readonly #m: SpeexResamplerModule;
  #state: number;
  readonly #inPtr: number;
  readonly #outPtr: number;
  /** Two uint32: input length, output length (per channel). */
  readonly #lengthsPtr: number;
  readonly #outCapacity: number;

  constructor(
    m: SpeexResamplerModule,
    inputRate: ResamplerRate,
    outputRate: ResamplerRate,
    channels: 1 | 2,
    quality: number,
  ) {
    this.#m = m;
    this.inputRate = inputRate;
    this.outputRate = outputRate;
    this.channels = channels;
    this.quality = quality;
    this.#outCapacity = Math.ceil(CHUNK_FRAMES * outputRate / inputRate) + 64;
    this.#inPtr = m._malloc(CHUNK_FRAMES * channels * 2);
    this.#outPtr = m._malloc(this.#outCapacity * channels * 2);
    this.#lengthsPtr = m._malloc(12);
    this.#state = m._speex_resampler_init(
      channels,
      inputRate,
      outputRate,
      quality,
      this.#lengthsPtr + 8,
    );
    const error = m.HEAP32[(this.#lengthsPtr + 8) >> 2];
    if (this.#state === 0 || error !== 0) {
      this.#free();
      throw new CodecError("internal_error", `Cannot create resampler: speex error ${error}`);
    }
    const state = this.#state, pointers = [this.#inPtr, this.#outPtr, this.#lengthsPtr];
    registry.register(this, () => {
      m._speex_resampler_destroy(state);
      for (const p of pointers) m._free(p);
    }, this);
  }

  process(input: Int16Array): Int16Array {
    if (this.#state === 0) {
      throw new CodecError("closed", "Cannot resample: the resampler is closed");
    }
    const channels = this.channels;
    if (input.length % channels !== 0) {
      throw new RangeError(`Cannot resample ${input.length} samples of ${channels} channels`);
    }
    const m = this.#m;
    const frames = input.length / channels;
    const pieces: Int16Array[] = [];
    let total = 0;
    for (let at = 0; at < frames; at += CHUNK_FRAMES) {
      const take = Math.min(CHUNK_FRAMES, frames - at);
      m.HEAP16.set(input.subarray(at * channels, (at + take) * channels), this.#inPtr >> 1);
      const lengths = this.#lengthsPtr >> 2;
      m.HEAPU32[lengths] = take;
      m.HEAPU32[lengths + 1] = this.#outCapacity;
      const status = channels === 1
        ? m._speex_resampler_process_int(
          this.#state,
          0,
          this.#inPtr,
          this.#lengthsPtr,
          this.#outPtr,
          this.#lengthsPtr + 4,
        )
        : m._speex_resampler_process_interleaved_int(
          this.#state,
          this.#inPtr,
          this.#lengthsPtr,
          this.#outPtr,
          this.#lengthsPtr + 4,
        );
      if (status !== 0) {
        throw new CodecError("internal_error", `Cannot resample: speex error ${status}`);
      }
      const produced = m.HEAPU32[lengths + 1] * channels;
      const start = this.#outPtr >> 1;
      pieces.push(m.HEAP16.slice(start, start + produced));
      total += produced;
    }
    if (pieces.length === 1) return pieces[0];
    const out = new Int16Array(total);
    let offset = 0;
    for (const piece of pieces) {
      out.set(piece, offset);
      offset += piece.length;
    }
    return out;
  }

  close(): void {
    if (this.#state === 0) return;
    registry.unregister(this);
    this.#free();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #free(): void {
    const m = this.#m;
    if (this.#state !== 0) m._speex_resampler_destroy(this.#state);
    this.#state = 0;
    m._free(this.#inPtr);
    m._free(this.#outPtr);
    m._free(this.#lengthsPtr);
  }
}

class PassThrough implements Resampler {
  readonly inputRate: ResamplerRate;
  readonly outputRate: ResamplerRate;
  readonly channels: 1 | 2;
  readonly quality: number;
  #closed = false;

  constructor(rate: ResamplerRate, channels: 1 | 2, quality: number) {
    this.inputRate = rate;
    this.outputRate = rate;
    this.channels = channels;
    this.quality = quality;
  }

  process(input: Int16Array): Int16Array {
    if (this.#closed) throw new CodecError("closed", "Cannot resample: the resampler is closed");
    return input.slice();
  }

  close(): void {
    this.#closed = true;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
