/**
 * Audio helpers for the agent tests: fixtures as µ-law frames, paced feeding, a recorder
 * of what a leg hears (with each frame's capture time), tones and energy.
 *
 * @module
 */
import type { AudioBridge } from "../../src/bridge/mod.ts";
import { decodeUlaw, encodeUlaw } from "../../src/codecs/g711.ts";
import { nowMicros } from "../../src/voice/track.ts";
import { readFixtureWav } from "../_lib/fixtures.ts";
import { guard } from "./_fixture.ts";

/** The 8 kHz turns fixture as PCM. */
export function turns8k(): Int16Array {
  return readFixtureWav("turns-8k.wav").samples;
}

/** A sine tone at 8 kHz. */
export function tone(ms: number, hz = 440, amplitude = 8000, rate = 8000): Int16Array {
  const out = new Int16Array((rate * ms) / 1000);
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
  }
  return out;
}

/**
 * Writes `pcm` to the leg as 20 ms µ-law frames in real time (drift-corrected). Resolves
 * with the capture time of the first frame, µs.
 */
export async function feedUlaw(
  leg: AudioBridge,
  pcm: Int16Array,
  signal?: AbortSignal,
): Promise<number> {
  const start = performance.now();
  const startMicros = nowMicros();
  for (let i = 0; (i + 1) * 160 <= pcm.length; i++) {
    if (signal?.aborted) break;
    const due = start + i * 20;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    leg.write(encodeUlaw(pcm.subarray(i * 160, (i + 1) * 160)), startMicros + i * 20_000);
  }
  return startMicros;
}

/** A received frame: PCM and its capture (playout slot) time in µs. */
export interface Heard {
  readonly pcm: Int16Array;
  readonly timestamp: number;
}

/** Records what a µ-law leg hears, until stopped or the track ends. */
export class Recorder {
  readonly frames: Heard[] = [];
  readonly #waiters: Array<
    { match: (f: Heard, i: number) => boolean; resolve: (i: number) => void }
  > = [];
  readonly done: Promise<void>;

  constructor(leg: AudioBridge) {
    this.done = (async () => {
      for await (const frame of leg) {
        const heard = { pcm: decodeUlaw(frame.payload), timestamp: frame.timestamp };
        this.frames.push(heard);
        const i = this.frames.length - 1;
        for (const w of [...this.#waiters]) {
          if (w.match(heard, i)) {
            this.#waiters.splice(this.#waiters.indexOf(w), 1);
            w.resolve(i);
          }
        }
      }
    })();
  }

  /** Resolves with the index of the first frame from `from` on matching. */
  next(match: (f: Heard, i: number) => boolean, from = 0): Promise<number> {
    for (let i = from; i < this.frames.length; i++) {
      if (match(this.frames[i], i)) return Promise.resolve(i);
    }
    return guard(
      new Promise((resolve) =>
        this.#waiters.push({ match: (f, i) => i >= from && match(f, i), resolve })
      ),
      `a heard frame matching ${match.toString().replace(/\s+/g, " ").slice(0, 120)}`,
    );
  }

  /** PCM from frame `from` on, each frame placed by its capture time (gaps stay gaps). */
  timeline(from = 0, rate = 8000): Int16Array {
    const slice = this.frames.slice(from);
    if (slice.length === 0) return new Int16Array(0);
    const t0 = slice[0].timestamp;
    const last = slice[slice.length - 1];
    const out = new Int16Array(
      Math.round(((last.timestamp - t0) * rate) / 1e6) + last.pcm.length,
    );
    for (const f of slice) out.set(f.pcm, Math.round(((f.timestamp - t0) * rate) / 1e6));
    return out;
  }

  /** All PCM from frame `from` to `to` (exclusive). */
  pcm(from = 0, to = this.frames.length): Int16Array {
    const slice = this.frames.slice(from, to);
    const out = new Int16Array(slice.reduce((n, f) => n + f.pcm.length, 0));
    let at = 0;
    for (const f of slice) {
      out.set(f.pcm, at);
      at += f.pcm.length;
    }
    return out;
  }
}

/** RMS of samples. */
export function rms(pcm: Int16Array): number {
  let sum = 0;
  for (const s of pcm) sum += s * s;
  return Math.sqrt(sum / Math.max(1, pcm.length));
}

/** µ-law bytes of PCM. */
export const ulaw = encodeUlaw;
