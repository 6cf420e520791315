/**
 * Voice-activity detection for RTP legs: WebRTC's VAD (libfvad as WASM,
 * `npm:@echogarden/fvad-wasm`) per 20 ms frame, smoothed into speech start/stop events.
 *
 * Smoothing: speech starts after `minSpeechMs` of consecutive voiced frames and is dated
 * at the first of them; it stops after `hangoverMs` of consecutive unvoiced frames and is
 * dated at the first of those. Short pauses inside an utterance therefore do not end it.
 *
 * @module
 */
// @ts-types="./fvad_wasm.d.ts"
import createFvad from "@echogarden/fvad-wasm";
import type { FvadModule } from "./fvad_wasm.d.ts";

/**
 * Options of {@linkcode VoiceActivityDetector.create}.
 *
 * @example
 * ```ts
 * import type { VadOptions } from "./vad.ts";
 * const options: VadOptions = { mode: 2, minSpeechMs: 60, hangoverMs: 400 };
 * ```
 */
export interface VadOptions {
  /** WebRTC VAD aggressiveness 0–3 (default 2: 0–1 flag near-silence as speech). */
  readonly mode?: 0 | 1 | 2 | 3;
  /** Sample rate of the frames: 8000, 16000, 32000 or 48000 (default 8000). */
  readonly sampleRate?: number;
  /** Voiced time needed to declare speech (default 60 ms). */
  readonly minSpeechMs?: number;
  /** Unvoiced time needed to declare the end of speech (default 400 ms). */
  readonly hangoverMs?: number;
}

/**
 * A speech start or stop.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { SpeechEvent } from "./vad.ts";
 * const e: SpeechEvent = { type: "speech_start", at: Date.UTC(2026, 0, 1) * 1000 };
 * assertEquals(new Date(e.at / 1000).toISOString(), "2026-01-01T00:00:00.000Z"); // µs, not ms
 * ```
 */
export interface SpeechEvent {
  readonly type: "speech_start" | "speech_stop";
  /** When it happened: the capture time of the first frame of the run, µs since the epoch. */
  readonly at: number;
}

let modulePromise: Promise<FvadModule> | undefined;

/**
 * One VAD instance (per call direction). Feed it 10, 20 or 30 ms frames in order.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { VoiceActivityDetector } from "./vad.ts";
 * using vad = await VoiceActivityDetector.create({ mode: 2 });
 * const event = vad.process(new Int16Array(160), 0);
 * assertEquals([event, vad.speaking], [undefined, false]);
 * ```
 */
export class VoiceActivityDetector implements Disposable {
  readonly #module: FvadModule;
  readonly #inst: number;
  readonly #buffer: number;
  readonly #bufferSamples: number;
  readonly #sampleRate: number;
  readonly #minSpeechUs: number;
  readonly #hangoverUs: number;
  #speaking = false;
  #runStart: number | undefined;
  #runUs = 0;
  #closed = false;

  private constructor(module: FvadModule, inst: number, options: Required<VadOptions>) {
    this.#module = module;
    this.#inst = inst;
    this.#sampleRate = options.sampleRate;
    this.#bufferSamples = (options.sampleRate * 30) / 1000;
    this.#buffer = module._malloc(this.#bufferSamples * 2);
    this.#minSpeechUs = options.minSpeechMs * 1000;
    this.#hangoverUs = options.hangoverMs * 1000;
  }

  /**
   * Loads the WASM module (once per process) and makes a detector.
   *
   * @throws {RangeError} for a bad mode or sample rate.
   */
  static async create(options: VadOptions = {}): Promise<VoiceActivityDetector> {
    const { mode = 2, sampleRate = 8000, minSpeechMs = 60, hangoverMs = 400 } = options;
    if (![0, 1, 2, 3].includes(mode)) throw new RangeError(`Invalid VAD mode: ${mode}`);
    if (![8000, 16000, 32000, 48000].includes(sampleRate)) {
      throw new RangeError(`Invalid VAD sample rate: ${sampleRate}`);
    }
    modulePromise ??= createFvad();
    const module = await modulePromise;
    const inst = module._fvad_new();
    if (!inst) throw new Error("Cannot create VAD: fvad_new failed");
    module._fvad_set_mode(inst, mode);
    module._fvad_set_sample_rate(inst, sampleRate);
    return new VoiceActivityDetector(module, inst, { mode, sampleRate, minSpeechMs, hangoverMs });
  }

  /** Whether speech is in progress. */
  get speaking(): boolean {
    return this.#speaking;
  }

  /**
   * Classifies one frame captured at `at` (µs) and returns the event it completes, if any.
   *
   * @throws {RangeError} for a frame that is not 10, 20 or 30 ms long.
   */
  process(samples: Int16Array, at: number): SpeechEvent | undefined {
    if (this.#closed) return undefined;
    const n = samples.length;
    if (n === 0 || n > this.#bufferSamples || (n * 100) % this.#sampleRate !== 0) {
      throw new RangeError(`Invalid VAD frame: ${n} samples (use 10, 20 or 30 ms)`);
    }
    this.#module.HEAP16.set(samples, this.#buffer >> 1);
    const voiced = this.#module._fvad_process(this.#inst, this.#buffer, n) === 1;
    const frameUs = (n / this.#sampleRate) * 1e6;
    // A run counts frames that disagree with the current state.
    if (voiced === this.#speaking) {
      this.#runStart = undefined;
      this.#runUs = 0;
      return undefined;
    }
    this.#runStart ??= at;
    this.#runUs += frameUs;
    if (this.#runUs < (this.#speaking ? this.#hangoverUs : this.#minSpeechUs)) return undefined;
    this.#speaking = voiced;
    const event: SpeechEvent = {
      type: voiced ? "speech_start" : "speech_stop",
      at: this.#runStart,
    };
    this.#runStart = undefined;
    this.#runUs = 0;
    return event;
  }

  /**
   * Forgets the speech state (not speaking, no run in progress): for a detector that was not
   * fed for a while, whose last state says nothing about now.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { VoiceActivityDetector } from "./vad.ts";
   * using vad = await VoiceActivityDetector.create();
   * vad.restart();
   * assertEquals(vad.speaking, false);
   * ```
   */
  restart(): void {
    this.#speaking = false;
    this.#runStart = undefined;
    this.#runUs = 0;
  }

  /** Frees the WASM state. Closing twice is a no-op. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#module._free(this.#buffer);
    this.#module._fvad_free(this.#inst);
  }

  /** Same as `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
