import { assertEquals } from "@std/assert";
import { SourceProbation } from "../../src/rtp/source_probation.ts";

Deno.test("probation passes a candidate only after N consecutive in-sequence packets", () => {
  const p = new SourceProbation<number>(3);
  assertEquals([p.offer(7, 10), p.offer(7, 11), p.offer(7, 12)], [false, false, true]);
  p.reset();
  assertEquals(p.run, 0);
  // Out of sequence, or another candidate in between, starts a new run.
  assertEquals([p.offer(7, 1), p.offer(7, 3), p.offer(8, 4), p.offer(7, 5)], [
    false,
    false,
    false,
    false,
  ]);
  assertEquals(p.run, 1);
  // The 16-bit sequence wraps.
  assertEquals([p.offer(9, 65534), p.offer(9, 65535), p.offer(9, 0)], [false, false, true]);
});

Deno.test("probation needs at least one packet", () => {
  const p = new SourceProbation<string>(0);
  assertEquals(p.packets, 1);
  assertEquals(p.offer("a", 5), true);
});
