/**
 * Offline text-to-speech: espeak-ng compiled to WASM (`npm:espeak-ng`), run in process.
 * Speaks text to PCM16 at a bridge rate.
 *
 * @module
 */
// espeak-ng's npm build is an Emscripten module factory without type declarations.
// @ts-types="./espeak_ng.d.ts"
import ESpeakNg from "espeak-ng";

/** Options of {@linkcode speak}. */
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
 * Speaks `text`; resolves with mono PCM16 at `sampleRate`. Each call runs a fresh WASM
 * instance (espeak-ng's command-line entry point), so calls never share state.
 *
 * @throws {RangeError} for text longer than {@linkcode MAX_TEXT_CHARS}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { speak } from "./tts.ts";
 * const pcm = await speak("Hello", { sampleRate: 8000 });
 * assertEquals(pcm.length > 1600, true); // more than 0.2 s of speech
 * ```
 */
export async function speak(text: string, options: SpeakOptions = {}): Promise<Int16Array> {
  const { sampleRate = 8000, voice = "en-us", wordsPerMinute = 160 } = options;
  if (text.length > MAX_TEXT_CHARS) {
    throw new RangeError(
      `Cannot speak: text is ${text.length} characters (limit ${MAX_TEXT_CHARS})`,
    );
  }
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
  const wav: Uint8Array = espeak.FS.readFile("out.wav");
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  const inputRate = view.getUint32(24, true);
  // The data chunk follows the 44-byte header espeak-ng writes.
  const samples = new Int16Array(Math.floor((wav.length - 44) / 2));
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(44 + i * 2, true);
  return resample(samples, inputRate, sampleRate);
}

/**
 * Windowed-sinc resampling of a whole buffer between any two rates. Hand-written because
 * the Speex resampler in src/codecs only takes the bridge rates, and espeak-ng speaks at
 * 22050 Hz.
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
