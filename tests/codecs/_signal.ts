/**
 * Signal measurements for the codec tests: fixtures, tones, levels, delay-aligned
 * correlation and SNR.
 *
 * @module
 */
import { FIXTURES, readFixtureWav } from "../_lib/fixtures.ts";

export { FIXTURES };

/** Reads a fixture WAV (mono PCM16). */
export const readFixture = readFixtureWav;

/** A sine tone. */
export function tone(
  hz: number,
  sampleRate: number,
  samples: number,
  amplitude = 10000,
): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) {
    out[i] = Math.round(amplitude * Math.sin(2 * Math.PI * hz * i / sampleRate));
  }
  return out;
}

/** Root mean square of `x[from, to)`. */
export function rms(x: ArrayLike<number>, from = 0, to = x.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i] * x[i];
  return Math.sqrt(sum / Math.max(1, to - from));
}

/** `20·log10(a / b)`. */
export function db(a: number, b: number): number {
  return 20 * Math.log10(a / b);
}

/** Concatenates arrays. */
export function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The best alignment of `y` against `x`: `y[i + lag] ≈ x[i]`. */
export interface Alignment {
  /** Samples by which `y` lags `x`. */
  readonly lag: number;
  /** Normalized cross-correlation at that lag (−1…1). */
  readonly correlation: number;
  /** Waveform SNR of `y` against `x` at that lag, gain-matched, in dB. */
  readonly snrDb: number;
}

/**
 * Searches lags `0…maxLag` (and negative ones down to `-maxLag`) for the one maximizing the
 * normalized cross-correlation of `x` and `y` over their overlap.
 */
export function align(x: ArrayLike<number>, y: ArrayLike<number>, maxLag: number): Alignment {
  let best = { lag: 0, correlation: -Infinity };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const c = correlationAt(x, y, lag);
    if (c > best.correlation) best = { lag, correlation: c };
  }
  return { ...best, snrDb: snrAt(x, y, best.lag) };
}

function overlap(x: ArrayLike<number>, y: ArrayLike<number>, lag: number): [number, number] {
  const start = Math.max(0, -lag);
  const end = Math.min(x.length, y.length - lag);
  return [start, end];
}

function correlationAt(x: ArrayLike<number>, y: ArrayLike<number>, lag: number): number {
  const [start, end] = overlap(x, y, lag);
  let xy = 0, xx = 0, yy = 0;
  for (let i = start; i < end; i++) {
    const a = x[i], b = y[i + lag];
    xy += a * b;
    xx += a * a;
    yy += b * b;
  }
  return xx === 0 || yy === 0 ? 0 : xy / Math.sqrt(xx * yy);
}

function snrAt(x: ArrayLike<number>, y: ArrayLike<number>, lag: number): number {
  const [start, end] = overlap(x, y, lag);
  let xy = 0, yy = 0;
  for (let i = start; i < end; i++) {
    xy += x[i] * y[i + lag];
    yy += y[i + lag] * y[i + lag];
  }
  const gain = yy === 0 ? 0 : xy / yy;
  let signal = 0, noise = 0;
  for (let i = start; i < end; i++) {
    const e = x[i] - gain * y[i + lag];
    signal += x[i] * x[i];
    noise += e * e;
  }
  return 10 * Math.log10(signal / noise);
}

/** Splits `x` into consecutive chunks of `size` (the last one may be shorter). */
export function chunks<T extends Int16Array | Uint8Array>(x: T, size: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < x.length; i += size) out.push(x.subarray(i, i + size) as T);
  return out;
}
