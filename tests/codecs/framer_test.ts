import { assertEquals, assertThrows } from "@std/assert";
import { createFramer } from "../../src/codecs/framer.ts";
import { concat } from "./_signal.ts";

const ramp = (n: number, start = 0) => Int16Array.from({ length: n }, (_, i) => start + i);

Deno.test("framer cuts arbitrary chunks into whole frames in order", () => {
  const framer = createFramer({ sampleRate: 8000, frameMs: 20 });
  const input = ramp(1000);
  const frames: Int16Array[] = [];
  for (const size of [1, 7, 159, 160, 161, 300, 12]) {
    const start = frames.length * 160 + framer.pending;
    frames.push(...framer.push(input.subarray(start, start + size)));
  }
  assertEquals(frames.length, 5);
  for (const frame of frames) assertEquals(frame.length, 160);
  assertEquals(concat(frames), input.subarray(0, 800));
  assertEquals(framer.pending, 0);
});

Deno.test("framer returns several frames from one big chunk and keeps the remainder", () => {
  const framer = createFramer({ sampleRate: 48000, frameMs: 10 });
  const frames = framer.push(ramp(480 * 3 + 5));
  assertEquals(frames.length, 3);
  assertEquals(framer.pending, 5);
  const next = framer.push(ramp(475, 1445));
  assertEquals(next.length, 1);
  assertEquals(Array.from(next[0].subarray(0, 6)), [1440, 1441, 1442, 1443, 1444, 1445]);
});

Deno.test("framer flush pads the partial frame with silence, then has nothing", () => {
  const framer = createFramer({ sampleRate: 16000, channels: 2, frameMs: 40 });
  assertEquals(framer.frameSamples, 1280);
  assertEquals(framer.push(ramp(10, 1)), []);
  const last = framer.flush()!;
  assertEquals(last.length, 1280);
  assertEquals(Array.from(last.subarray(8, 12)), [9, 10, 0, 0]);
  assertEquals(framer.flush(), undefined);
  assertEquals(framer.pending, 0);
});

Deno.test("framer output frames do not alias the input or each other", () => {
  const framer = createFramer({ sampleRate: 8000, frameMs: 10 });
  const input = ramp(160);
  const [a, b] = framer.push(input);
  input.fill(0);
  assertEquals(a[1], 1);
  assertEquals(b[0], 80);
});

Deno.test("framer accepts empty chunks and 60 ms frames", () => {
  const framer = createFramer({ sampleRate: 24000, frameMs: 60 });
  assertEquals(framer.push(new Int16Array(0)), []);
  assertEquals(framer.push(new Int16Array(1440)).length, 1);
});

Deno.test("framer rejects frame durations and rates that do not fit", () => {
  // deno-lint-ignore no-explicit-any
  assertThrows(() => createFramer({ sampleRate: 8000, frameMs: 30 as any }), RangeError);
  assertThrows(() => createFramer({ sampleRate: 11025, frameMs: 10 }), RangeError);
  assertThrows(() => createFramer({ sampleRate: 8000, channels: 0, frameMs: 20 }), RangeError);
});
