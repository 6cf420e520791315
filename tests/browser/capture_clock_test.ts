import { assertEquals } from "@std/assert";
import { CaptureClock } from "../../src/browser/capture_clock.ts";

/** What Chromium's Opus encoder does: stamps each 20 ms output by the samples fed so far. */
function encoderStamps(firstUs: number, frames: number): number[] {
  return Array.from({ length: frames }, (_, i) => firstUs + i * 20_000);
}

Deno.test("capture clock: without gaps, capture times are the encoder's timestamps", () => {
  const clock = new CaptureClock();
  clock.reset(48_000);
  for (let i = 0; i < 100; i++) clock.input(5_000_000 + i * 10_000, 480);
  const mapped = encoderStamps(5_000_000, 50).map((t) => clock.output(t));
  assertEquals(mapped, encoderStamps(5_000_000, 50));
});

Deno.test("capture clock: chunks the browser dropped stay a gap in capture times (the encoder's count does not see it)", () => {
  const clock = new CaptureClock();
  clock.reset(48_000);
  // 1 s of 10 ms chunks, then 700 ms the browser dropped, then 1 s more.
  for (let i = 0; i < 100; i++) clock.input(i * 10_000, 480);
  for (let i = 0; i < 100; i++) clock.input(1_700_000 + i * 10_000, 480);
  const mapped = encoderStamps(0, 100).map((t) => clock.output(t));
  assertEquals(mapped.slice(0, 50), encoderStamps(0, 50));
  assertEquals(mapped.slice(50), encoderStamps(1_700_000, 50));
  assertEquals(clock.pending, 2, "only the chunks of the last output are remembered");
});

Deno.test("capture clock: a gap inside a 20 ms frame stamps it at its first sample, and a reset restarts the count", () => {
  const clock = new CaptureClock();
  clock.reset(16_000);
  clock.input(0, 160);
  clock.input(500_000, 160); // the frame's second half came 490 ms later
  clock.input(510_000, 160);
  assertEquals(clock.output(0), 0);
  assertEquals(clock.output(20_000), 510_000);
  clock.reset(48_000); // the encoder was configured again
  clock.input(9_000_000, 960);
  assertEquals(clock.output(9_000_000), 9_000_000);
});
