/**
 * Audio helpers of the browser tests: samples handed out of a page, decimation, and the
 * windowed best-lag correlation that compares what a page played with a reference.
 *
 * @module
 */
import { bestLagCorrelation, decimate } from "../_lib/correlate.ts";

/** Float32 samples out of the page, base64-encoded there (a big JSON array is slow). */
export function decodeSamples(b64: string): Float32Array {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

export { decimate };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Windowed alignment: each 500 ms window of `received` with speech in it (RMS ≥ 0.01) is
 * aligned on its own (lags within
 * `lagRange(windowStart)`), and the median r and lag are reported. The fake microphone and
 * the audio output run on different clocks in Chromium, so one lag cannot fit seconds of
 * audio; per window it does.
 */
export function windowedCorrelation(
  received: Float64Array,
  reference: Float64Array,
  lagRange: (start: number) => [number, number],
  window = 4000,
): { r: number; lag: number; windows: number } {
  const rs: number[] = [];
  const lags: number[] = [];
  for (let start = 0; start + window <= received.length; start += window) {
    // Pauses carry no waveform to match: only windows with speech in them count.
    let energy = 0;
    for (let i = start; i < start + window; i++) energy += received[i] * received[i];
    if (Math.sqrt(energy / window) < 0.01) continue;
    const [lo, hi] = lagRange(start);
    const c = bestLagCorrelation(received.subarray(start, start + window), reference, {
      minLag: lo,
      maxLag: hi,
      minOverlap: window,
    });
    rs.push(c.r);
    lags.push(c.lag - start);
  }
  if (Deno.env.get("DUMP")) console.log(rs.map((r) => r.toFixed(2)).join(" "), lags.join(" "));
  return { r: median(rs), lag: median(lags), windows: rs.length };
}

/**
 * `samples` at `from` Hz as 8 kHz: a box low-pass of the decimation width, then linear
 * interpolation (for a 44.1 kHz microphone, whose ratio is not whole).
 */
export function to8k(samples: Float32Array, from: number): Float64Array {
  if (from % 8000 === 0) return decimate(samples, from / 8000);
  const width = Math.max(1, Math.round(from / 8000));
  const smooth = new Float64Array(samples.length);
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    sum += samples[i];
    if (i >= width) sum -= samples[i - width];
    smooth[i] = sum / Math.min(i + 1, width);
  }
  const out = new Float64Array(Math.floor(samples.length * 8000 / from));
  for (let i = 0; i < out.length; i++) {
    const t = i * from / 8000;
    const k = Math.floor(t);
    out[i] = smooth[k] + ((smooth[k + 1] ?? smooth[k]) - smooth[k]) * (t - k);
  }
  return out;
}
