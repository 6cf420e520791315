import { assert, assertEquals, assertGreater } from "@std/assert";
import { bestLagCorrelation, piecewiseCorrelation } from "./correlate.ts";
import { readFixtureWav } from "./fixtures.ts";

Deno.test("bestLagCorrelation finds an exact copy of a voice whatever its lag, also off the coarse grid", () => {
  // turns-8k.wav's voice has content to 4 kHz: sampled every 8 lags, its correlation peak can
  // fall between the samples. This measured r = 0.27 for an exact copy 4 samples off the grid
  // (and made a sound Opus downlink look broken, issue 9).
  const reference = readFixtureWav("turns-8k.wav").samples.subarray(12_000, 36_000);
  for (const lag of [0, 52, 324, 531, 1492]) {
    const received = new Int16Array(reference.length + 2000);
    received.set(reference, lag);
    const c = bestLagCorrelation(reference, received, {
      maxLag: received.length - reference.length,
    });
    assertEquals(c.lag, lag, `lag ${lag}`);
    assertGreater(c.r, 0.999, `r ${c.r} at lag ${lag}`);
  }
});

Deno.test("bestLagCorrelation finds a negative lag of white noise within the overlap bound", () => {
  // White noise (content to Nyquist, no period) correlates only at its true lag.
  let seed = 1;
  const reference = Float64Array.from({ length: 8000 }, () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 30 - 1;
  });
  const received = reference.subarray(300); // received starts 300 samples into the reference
  const c = bestLagCorrelation(reference, received, {
    minLag: -1000,
    maxLag: 1000,
    minOverlap: 7000,
  });
  assertEquals(c.lag, -300);
  assertGreater(c.r, 0.999);
  assertEquals(c.overlap, 7700);
});

Deno.test("piecewiseCorrelation finds every piece of a voice across a playout shift, and misses a lost piece", () => {
  const reference = readFixtureWav("speech-8k.wav").samples.subarray(16_000, 32_000);
  // A player that spliced 160 ms of silence in after the first 1.2 s: one lag matches only part.
  const shifted = new Int16Array(reference.length + 3000);
  shifted.set(reference.subarray(0, 9600), 1000);
  shifted.set(reference.subarray(9600), 1000 + 9600 + 1280);
  const whole = bestLagCorrelation(reference, shifted, { minOverlap: reference.length });
  assert(whole.r < 0.9, `one lag over the shift: r=${whole.r}`);
  const pieces = piecewiseCorrelation(reference, shifted, 4);
  for (const p of pieces) assertGreater(p.r, 0.99);
  // Piece 2 holds the shift (scored with one lag change inside it); its neighbours' lags say
  // where each side landed.
  assertEquals([0, 1, 3].map((k) => pieces[k].lag), [1000, 1000, 1000 + 1280]);
  // Half a second of it lost (zeros where piece 2 was): that piece fails on its own.
  const lost = new Int16Array(reference.length + 2000);
  lost.set(reference, 1000);
  lost.fill(0, 1000 + 8000, 1000 + 12_000);
  const withLoss = piecewiseCorrelation(reference, lost, 4);
  assert(withLoss[2].r < 0.5, `a lost piece correlates ${withLoss[2].r}`);
  for (const k of [0, 1, 3]) assertGreater(withLoss[k].r, 0.99);
});
