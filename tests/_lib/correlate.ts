/**
 * Best-lag normalized cross-correlation: how much of a reference signal a received signal
 * carries, whatever delay the path added.
 *
 * @module
 */

/** The best lag and its normalized correlation (−1…1). */
export interface Correlation {
  /** Samples `received` lags `reference` by at the best match. */
  readonly lag: number;
  /** Pearson correlation over the overlap at that lag. */
  readonly r: number;
  /** Samples in the overlap. */
  readonly overlap: number;
}

/**
 * Searches lags in `[minLag, maxLag]` (received[i + lag] ~ reference[i]) and returns the one
 * with the highest Pearson correlation over an overlap of at least `minOverlap` samples.
 * Lags are scanned coarsely (`step`), and every lag of both signals low-passed and decimated by
 * `step`; the best of each scan is then refined at full rate.
 *
 * @example
 * ```ts
 * import { bestLagCorrelation } from "./correlate.ts";
 * const ref = Float64Array.from({ length: 4000 }, (_, i) => Math.sin(i * 0.05) * Math.sin(i * 0.0031));
 * const got = new Float64Array(5000);
 * got.set(ref, 321);
 * const { lag, r } = bestLagCorrelation(ref, got, { maxLag: 1000 });
 * console.log(lag, r > 0.99); // 321 true
 * ```
 */
export function bestLagCorrelation(
  reference: ArrayLike<number>,
  received: ArrayLike<number>,
  { minLag = 0, maxLag = received.length, minOverlap = 1600, step = 8 }: {
    minLag?: number;
    maxLag?: number;
    minOverlap?: number;
    step?: number;
  } = {},
): Correlation {
  let best: Correlation = { lag: 0, r: -Infinity, overlap: 0 };
  const at = (lag: number) => {
    const c = correlationAt(reference, received, lag);
    if (c.overlap >= minOverlap && c.r > best.r) best = c;
  };
  const refine = (around: number, width: number) => {
    const from = Math.max(minLag, around - width), to = Math.min(maxLag, around + width);
    for (let lag = from; lag <= to; lag++) at(lag);
  };
  for (let lag = minLag; lag <= maxLag; lag += step) at(lag);
  const coarse = best.lag;
  refine(coarse, step);
  if (step > 1) {
    // Sampling the lags every `step` misses a waveform's peak when the signal has content above
    // rate / (2·step): at 8 kHz and step 8 (1 ms) a voice 4 samples off the grid can correlate
    // less than a wrong lag (an exact copy of turns-8k.wav measured r = 0.27). So the coarse
    // scan is repeated on both signals low-passed and decimated by `step`, where every lag is
    // visited, and its best is refined at full rate too.
    const lowRef = decimate(reference, step), lowGot = decimate(received, step);
    const lowMin = Math.ceil(minLag / step), lowMax = Math.floor(maxLag / step);
    let lowBest = { lag: lowMin, r: -Infinity };
    for (let lag = lowMin; lag <= lowMax; lag++) {
      const c = correlationAt(lowRef, lowGot, lag);
      if (c.overlap >= minOverlap / step && c.r > lowBest.r) lowBest = c;
    }
    if (lowBest.r > -Infinity) refine(lowBest.lag * step, 2 * step);
  }
  return best;
}

/**
 * Finds each of `pieces` equal, consecutive pieces of `reference` in `received`, each at its own
 * best lag. A real-time path may adjust its playout mid-stream — a player that splices silence
 * after its writer stalled for longer than a pause (an overloaded machine), a jitter buffer that
 * resizes — which shifts the lag of everything after it; one lag for the whole reference then
 * matches only the part before or after the shift. Piece by piece, every piece must still be
 * there, intact: a lost or garbled piece correlates low on its own. A piece the shift falls
 * inside is scored with one lag change in it (at a frame boundary, between the lags found around
 * it), so a shift is not mistaken for loss.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { piecewiseCorrelation } from "./correlate.ts";
 * let seed = 1;
 * const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
 * const ref = Float64Array.from({ length: 8000 }, noise);
 * const got = new Float64Array(9000);
 * got.set(ref.subarray(0, 4000), 100); // the second half comes 240 samples later
 * got.set(ref.subarray(4000), 4340);
 * const [a, b] = piecewiseCorrelation(ref, got, 2);
 * assertEquals([a.lag, b.lag], [100, 340]);
 * assert(a.r > 0.99 && b.r > 0.99);
 * ```
 */
export function piecewiseCorrelation(
  reference: ArrayLike<number>,
  received: ArrayLike<number>,
  pieces: number,
  { frame = 160 }: { frame?: number } = {},
): Correlation[] {
  const size = Math.floor(reference.length / pieces);
  const ref = Float64Array.from(reference);
  const piece = (k: number) => ref.subarray(k * size, (k + 1) * size);
  // The lag of the whole reference: where piece k's first sample landed, minus its offset.
  const found = Array.from({ length: pieces }, (_, k) => {
    const c = bestLagCorrelation(piece(k), received, { minOverlap: size });
    return { ...c, lag: c.lag - k * size };
  });
  return found.map((c, k) => {
    const lags = new Set([c.lag]);
    for (const near of [found[k - 1], found[k + 1]]) if (near) lags.add(near.lag);
    let r = c.r;
    for (const before of lags) {
      for (const after of lags) {
        if (before === after) continue;
        for (let t = frame; t < size; t += frame) {
          r = Math.max(r, splitCorrelation(piece(k), received, k * size, before, after, t));
        }
      }
    }
    return { ...c, r };
  });
}

/** Pearson r of `piece` against `received` read at lag `before` up to `t`, at `after` from it. */
function splitCorrelation(
  piece: Float64Array,
  received: ArrayLike<number>,
  offset: number,
  before: number,
  after: number,
  t: number,
): number {
  const n = piece.length;
  let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (let i = 0; i < n; i++) {
    const at = offset + i + (i < t ? before : after);
    if (at < 0 || at >= received.length) return -Infinity;
    const x = piece[i], y = received[at];
    sa += x;
    sb += y;
    saa += x * x;
    sbb += y * y;
    sab += x * y;
  }
  const va = saa - (sa * sa) / n, vb = sbb - (sb * sb) / n;
  return va > 0 && vb > 0 ? (sab - (sa * sb) / n) / Math.sqrt(va * vb) : 0;
}

/**
 * Block means of `factor` samples: a box low-pass, then decimation by `factor` (48 kHz → 8 kHz
 * with 6 is enough for speech).
 */
export function decimate(x: ArrayLike<number>, factor: number): Float64Array {
  const out = new Float64Array(Math.floor(x.length / factor));
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let k = 0; k < factor; k++) sum += x[i * factor + k];
    out[i] = sum / factor;
  }
  return out;
}

function correlationAt(a: ArrayLike<number>, b: ArrayLike<number>, lag: number): Correlation {
  const start = Math.max(0, -lag);
  const end = Math.min(a.length, b.length - lag);
  const n = end - start;
  if (n <= 1) return { lag, r: -Infinity, overlap: Math.max(0, n) };
  let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (let i = start; i < end; i++) {
    const x = a[i], y = b[i + lag];
    sa += x;
    sb += y;
    saa += x * x;
    sbb += y * y;
    sab += x * y;
  }
  const cov = sab - (sa * sb) / n;
  const va = saa - (sa * sa) / n;
  const vb = sbb - (sb * sb) / n;
  const r = va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : 0;
  return { lag, r, overlap: n };
}
