import { assertEquals, assertLessOrEqual, assertThrows } from "@std/assert";
import { PlayoutBuffer, type PlayoutItem } from "../../src/bridge/playout_buffer.ts";

const FRAME_US = 20_000;
const T0 = 1_700_000_000_000_000;

/** A buffer on a fake clock, with a sender whose frame n is captured at T0 + n × 20 ms. */
function setup(options: { maxLatencyMs?: number; reorderMs?: number } = {}) {
  const clock = { now: T0 };
  const buffer = new PlayoutBuffer({ frameMs: 20, clock: () => clock.now, ...options });
  const push = (seq: number) =>
    buffer.push({ seq, timestamp: T0 + seq * FRAME_US, payload: Uint8Array.of(seq & 0xff) });
  const describe = (item: PlayoutItem | undefined) =>
    item === undefined ? "-" : item.kind === "frame" ? `f${item.frame.seq}` : `g${item.seq}`;
  const drain = () => {
    const out: string[] = [];
    for (let item; (item = buffer.next());) out.push(describe(item));
    return out;
  };
  return { clock, buffer, push, drain };
}

Deno.test("playout buffer plays frames in sequence order whatever the arrival order", () => {
  const { clock, push, drain, buffer } = setup({ reorderMs: 40 });
  push(0);
  clock.now += 10_000;
  push(2);
  push(1);
  push(3);
  assertEquals(drain(), ["f0", "f1", "f2", "f3"]);
  assertEquals(buffer.stats.concealed, 0);
  assertEquals(buffer.stats.played, 4);
});

Deno.test("playout buffer waits the reorder window for a missing frame, then conceals it", () => {
  const { clock, push, drain, buffer } = setup({ reorderMs: 20 });
  push(0);
  clock.now += 20_000;
  push(1);
  clock.now += 40_000;
  push(3); // 2 is missing
  assertEquals(drain(), ["f0", "f1"], "the gap is not due yet");
  assertEquals(buffer.nextDueAt(), clock.now + 20_000);
  clock.now += 20_000;
  push(4);
  const gap = buffer.next();
  assertEquals(gap, { kind: "gap", seq: 2, timestamp: T0 + 2 * FRAME_US });
  assertEquals(drain(), ["f3", "f4"]);
  assertEquals(buffer.stats.concealed, 1);
});

Deno.test("playout buffer drops a frame that arrives after its slot was concealed", () => {
  const { clock, push, drain, buffer } = setup({ reorderMs: 0 });
  push(0);
  push(2);
  assertEquals(drain(), ["f0", "g1", "f2"]);
  clock.now += 5_000;
  assertEquals(push(1), false);
  assertEquals(buffer.stats.lateDropped, 1);
  assertEquals(push(2), false, "a replay of a played frame is late too");
  assertEquals(drain(), []);
});

Deno.test("playout buffer counts duplicates without playing them twice", () => {
  const { push, drain, buffer } = setup();
  push(0);
  push(1);
  assertEquals(push(1), false);
  assertEquals(drain(), ["f0", "f1"]);
  assertEquals(buffer.stats.duplicates, 1);
});

Deno.test("playout buffer drops frames older than the bound at playout instead of playing them late", () => {
  const { clock, push, drain, buffer } = setup({ maxLatencyMs: 100 });
  // A real-time sender: frame n arrives 1 ms after its capture.
  for (let n = 0; n < 5; n++) {
    clock.now = T0 + n * FRAME_US + 1000;
    push(n);
  }
  assertEquals(drain(), ["f0", "f1", "f2", "f3", "f4"]);
  // The network stalls for 500 ms; then frames 5–30 arrive at once.
  clock.now = T0 + 30 * FRAME_US + 1000;
  for (let n = 5; n <= 30; n++) push(n);
  const played = drain();
  // Only frames within 100 ms of the newest capture remain: 26, 27, …, 30 (or one fewer).
  assertLessOrEqual(played.length, 5);
  assertEquals(played.at(-1), "f30");
  assertEquals(played.includes("g5"), false, "dropped late frames are not concealed");
  const s = buffer.stats;
  assertEquals(s.received, 31);
  assertEquals(s.played + s.lateDropped, 31);
});

Deno.test("playout buffer latency stays bounded for a reader that stops for two seconds", () => {
  const { clock, push, buffer } = setup({ maxLatencyMs: 200 });
  let seq = 0;
  const latencies: number[] = [];
  const tick = (read: boolean) => {
    clock.now = T0 + seq * FRAME_US + 2000;
    push(seq++);
    if (read) {
      const item = buffer.next();
      if (item?.kind === "frame") latencies.push((clock.now - item.frame.timestamp) / 1000);
    }
    assertLessOrEqual(buffer.buffered, 10, "never more than 200 ms of audio held");
  };
  for (let i = 0; i < 50; i++) tick(true);
  for (let i = 0; i < 100; i++) tick(false); // the reader stalls for 2 s
  for (let i = 0; i < 50; i++) tick(true);
  for (let i = 0; i < 20; i++) buffer.next(); // catch up on the backlog
  for (let i = 0; i < 50; i++) tick(true);
  assertLessOrEqual(Math.max(...latencies), 202, "latency never exceeds the bound");
  assertLessOrEqual(latencies.at(-1)!, 2, "and it shrinks back once the reader keeps up");
  const s = buffer.stats;
  assertEquals(s.received, 250);
  assertEquals(s.played + s.lateDropped + buffer.buffered, 250);
  assertLessOrEqual(90, s.lateDropped);
});

Deno.test("playout buffer absorbs a sender clock offset: only queueing counts as lateness", () => {
  const { clock, buffer } = setup({ maxLatencyMs: 60 });
  // The sender's clock runs 3 s behind ours and the path takes 30 ms.
  const skew = -3_000_000;
  for (let n = 0; n < 20; n++) {
    clock.now = T0 + n * FRAME_US + 30_000;
    buffer.push({ seq: n, timestamp: T0 + skew + n * FRAME_US, payload: new Uint8Array(1) });
    assertEquals(buffer.next()?.kind, "frame");
  }
  assertEquals(buffer.stats.lateDropped, 0);
});

Deno.test("playout buffer conceals at most the latency bound of a long gap and skips the rest", () => {
  const { clock, push, drain, buffer } = setup({ maxLatencyMs: 100, reorderMs: 0 });
  push(0);
  assertEquals(drain(), ["f0"]);
  clock.now = T0 + 1_000_000 * FRAME_US; // a hostile jump far ahead
  push(1_000_000);
  const out = drain();
  assertEquals(out.at(-1), "f1000000");
  assertLessOrEqual(out.length - 1, 5, "concealment is bounded by the latency bound");
  assertEquals(buffer.stats.skipped + buffer.stats.concealed, 999_999);
});

Deno.test("playout buffer rejects nonsensical options", () => {
  assertThrows(() => new PlayoutBuffer({ frameMs: 0 }), RangeError);
  assertThrows(() => new PlayoutBuffer({ frameMs: 20, maxLatencyMs: 10 }), RangeError);
  assertThrows(() => new PlayoutBuffer({ frameMs: 20, reorderMs: -1 }), RangeError);
  assertThrows(() => new PlayoutBuffer({ frameMs: 20, maxLatencyMs: NaN }), RangeError);
});
