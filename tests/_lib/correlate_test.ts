import { assertEquals, assertGreater } from "@std/assert";
import { bestLagCorrelation } from "./correlate.ts";
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
