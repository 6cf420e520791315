/**
 * The synthesis itself: espeak-ng compiled to WASM (`npm:espeak-ng`) speaking text to a WAV,
 * resampled to a bridge rate. CPU-bound for hundreds of milliseconds per sentence, so the
 * server never runs it on its event loop: {@linkcode speak} in `tts.ts` runs it in a Worker
 * (`tts_worker.ts`).
 *
 * @module
 */
// espeak-ng's npm build is an Emscripten module factory without type declarations.
// @ts-types="./espeak_ng.d.ts"
import ESpeakNg from "espeak-ng";

/** Options of a synthesis. */
export interface SpeakOptions {
  /** Output rate [8000]. */
  readonly sampleRate?: number;
  /** espeak-ng voice [`en-us`]. */
  readonly voice?: string;
  /** Words per minute [160]. */
  readonly wordsPerMinute?: number;
}

/** The longest text spoken at once, characters. */
export const MAX_TEXT_CHARS = 4000;

/**
 * Speaks `text` on the calling thread; resolves with mono PCM16 at `sampleRate`. Each call
 * runs a fresh WASM instance (espeak-ng's command-line entry point), so calls never share
 * state. Blocks the thread while espeak-ng runs: call it from a Worker.
 *
 * @throws {RangeError} for text longer than {@linkcode MAX_TEXT_CHARS}.
 * @throws {Error} when espeak-ng writes no audio (an unknown voice).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { synthesize } from "./tts_synth.ts";
 * const pcm = await synthesize("Hello", { sampleRate: 8000 });
 * assertEquals(pcm.length > 1600, true); // more than 0.2 s of speech
 * ```
 */
export async function synthesize(text: string, options: SpeakOptions = {}): Promise<Int16Array> {
  const { sampleRate = 8000, voice = "en-us", wordsPerMinute = 160 } = options;
  checkText(text);
  const espeak = await ESpeakNg({
    arguments: [
      "--path=/espeak-ng-data",
      "-v",
      voice,
      "-s",
      String(wordsPerMinute),
      "-w",
      "out.wav",
      // Text after "--" is never read as an option.
      "--",
      text.replace(/\s+/g, " ").trim() || " ",
    ],
    print: () => {},
    printErr: () => {},
  });
  let wav: Uint8Array;
  try {
    wav = espeak.FS.readFile("out.wav");
  } catch (cause) {
    throw new Error(`Cannot speak: espeak-ng wrote no audio (voice "${voice}")`, { cause });
  }
  if (wav.length < 44) throw new Error(`Cannot speak: espeak-ng wrote ${wav.length} bytes`);
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  const inputRate = view.getUint32(24, true);
  // The data chunk follows the 44-byte header espeak-ng writes.
  const samples = new Int16Array(Math.floor((wav.length - 44) / 2));
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(44 + i * 2, true);
  return resample(samples, inputRate, sampleRate);
}

/**
 * Throws when `text` is too long to speak at once.
 *
 * @throws {RangeError} for text longer than {@linkcode MAX_TEXT_CHARS}.
 */
export function checkText(text: string): void {
  if (text.length > MAX_TEXT_CHARS) {
    throw new RangeError(
      `Cannot speak: text is ${text.length} characters (limit ${MAX_TEXT_CHARS})`,
    );
  }
}

/**
 * Windowed-sinc resampling of a whole buffer between any two rates. Hand-written because
 * the Speex resampler in src/codecs only takes the bridge rates, and espeak-ng speaks at
 * 22050 Hz.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { resample } from "./tts_synth.ts";
 * assertEquals(resample(new Int16Array(22050), 22050, 8000).length, 8000);
 * ```
 */
export function resample(input: Int16Array, from: number, to: number): Int16Array {
  if (from === to) return input.slice();
  const ratio = to / from;
  const out = new Int16Array(Math.floor(input.length * ratio));
  const cutoff = Math.min(1, ratio) * 0.95;
  const half = 16;
  for (let n = 0; n < out.length; n++) {
    const center = n / ratio;
    const first = Math.ceil(center - half / cutoff);
    const last = Math.floor(center + half / cutoff);
    let sum = 0;
    for (let k = first; k <= last; k++) {
      if (k < 0 || k >= input.length) continue;
      const x = (k - center) * cutoff;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const w = 0.5 + 0.5 * Math.cos((Math.PI * (k - center) * cutoff) / half);
      sum += input[k] * sinc * w * cutoff;
    }
    out[n] = Math.max(-32768, Math.min(32767, Math.round(sum)));
  }
  return out;
}
