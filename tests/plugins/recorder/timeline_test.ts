import { assertEquals } from "@std/assert";
import { Timeline } from "../../../src/plugins/recorder/timeline.ts";

Deno.test("timeline interleaves channels by absolute position, silence where nothing was written", () => {
  const t = new Timeline(2);
  t.write(0, 100, new Int16Array([1, 2, 3]));
  t.write(1, 102, new Int16Array([7, 8]));
  assertEquals([...t.take(104)], [1, 0, 2, 0, 3, 7, 0, 8]);
  assertEquals(t.origin, 100);
});

Deno.test("timeline drops and counts samples for positions already taken", () => {
  const t = new Timeline(2);
  t.write(0, 0, new Int16Array([1, 1, 1, 1]));
  t.take(3);
  t.write(1, 1, new Int16Array([5, 5, 5]));
  assertEquals(t.late(1), 2);
  assertEquals([...t.take(4)], [1, 5]);
});

Deno.test("timeline refuses a write that would buffer beyond its bound", () => {
  const t = new Timeline(2, 1000);
  assertEquals(t.write(0, 0, new Int16Array(10)), true);
  assertEquals(t.write(0, 5000, new Int16Array(10)), false);
  assertEquals(t.head, 10);
});
