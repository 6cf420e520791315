import { assertAlmostEquals, assertEquals } from "@std/assert";
import { FrameStats } from "../../src/browser/frame_stats.ts";

const MS = 1000;

Deno.test("frame stats: steady frames have no jitter, loss or lateness", () => {
  const stats = new FrameStats({ frameMs: 20, maxDelayMs: 200 });
  for (let i = 0; i < 50; i++) {
    assertEquals(stats.accept(i * 20 * MS, i * 20 * MS + 30 * MS), "play");
  }
  const s = stats.snapshot();
  assertEquals([s.received, s.lost, s.late], [50, 0, 0]);
  assertAlmostEquals(s.jitterMs, 0, 1e-9);
  assertEquals([s.transitP50Ms, s.transitP95Ms], [30, 30]);
});

Deno.test("frame stats: a gap in capture times counts the missing frames as lost", () => {
  const stats = new FrameStats({ frameMs: 20 });
  stats.accept(0, 10 * MS);
  stats.accept(100 * MS, 110 * MS); // frames at 20, 40, 60, 80 ms never came
  assertEquals(stats.snapshot().lost, 4);
});

Deno.test("frame stats: a frame behind one already played, or delayed past the bound, is late", () => {
  const stats = new FrameStats({ frameMs: 20, maxDelayMs: 100 });
  stats.accept(0, 10 * MS);
  stats.accept(40 * MS, 50 * MS);
  assertEquals(stats.accept(20 * MS, 55 * MS), "late", "older than what already played");
  assertEquals(stats.accept(60 * MS, 60 * MS + 150 * MS), "late", "140 ms above the fastest");
  assertEquals(stats.accept(80 * MS, 95 * MS), "play");
  assertEquals(stats.snapshot().late, 2);
});

Deno.test("frame stats: alternating transit delays show as RFC 3550 jitter", () => {
  const stats = new FrameStats({ frameMs: 20, maxDelayMs: 500 });
  for (let i = 0; i < 400; i++) stats.accept(i * 20 * MS, i * 20 * MS + (i % 2 ? 40 : 20) * MS);
  // |D| is always 20 ms, so the estimator converges to 20 ms.
  assertAlmostEquals(stats.snapshot().jitterMs, 20, 0.01);
});

Deno.test("frame stats: a path whose delay steps up for good plays again after the bound's worth of late frames, not after the window forgets the old path", () => {
  const stats = new FrameStats({ frameMs: 20, maxDelayMs: 200 });
  for (let i = 0; i < 50; i++) stats.accept(i * 20 * MS, i * 20 * MS + 30 * MS);
  // A new network path: every frame from now on takes 300 ms more.
  const verdicts = [];
  for (let i = 50; i < 100; i++) verdicts.push(stats.accept(i * 20 * MS, i * 20 * MS + 330 * MS));
  assertEquals(verdicts.slice(0, 10), Array(10).fill("late"), "200 ms of frames are late");
  assertEquals(verdicts.slice(10), Array(40).fill("play"), "then the new delay is the base");
  assertEquals(stats.snapshot().lost, 0, "late frames are not counted lost as well");
});

Deno.test("frame stats: a burst delayed past the bound but shorter than it stays late and moves nothing", () => {
  const stats = new FrameStats({ frameMs: 20, maxDelayMs: 200 });
  for (let i = 0; i < 50; i++) stats.accept(i * 20 * MS, i * 20 * MS + 30 * MS);
  for (let i = 50; i < 55; i++) {
    assertEquals(stats.accept(i * 20 * MS, i * 20 * MS + 330 * MS), "late");
  }
  // Back to the usual delay: played, and a frame 250 ms late is still late.
  assertEquals(stats.accept(55 * 20 * MS, 55 * 20 * MS + 30 * MS), "play");
  assertEquals(stats.accept(56 * 20 * MS, 56 * 20 * MS + 280 * MS), "late");
});
