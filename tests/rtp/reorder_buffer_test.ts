import { assertEquals } from "@std/assert";
import { ReorderBuffer } from "../../src/rtp/mod.ts";

function run(window: number, seqs: number[]) {
  const out: number[] = [];
  const buffer = new ReorderBuffer<number>(window);
  for (const seq of seqs) buffer.push(seq, seq, (item) => out.push(item));
  return { out, buffer };
}

Deno.test("reorder buffer puts swapped packets back in order and drops duplicates", () => {
  const { out, buffer } = run(4, [10, 12, 11, 11, 13, 12, 14]);
  assertEquals(out, [10, 11, 12, 13, 14]);
  assertEquals(buffer.stats, { duplicates: 2, late: 0, reordered: 1, lost: 0 });
});

Deno.test("reorder buffer handles the 16-bit sequence wrap, also reordered across it", () => {
  const { out, buffer } = run(4, [65533, 65534, 0, 65535, 1, 2]);
  assertEquals(out, [65533, 65534, 65535, 0, 1, 2]);
  assertEquals(buffer.stats.lost, 0);
  assertEquals(buffer.next, 65536 + 3);
});

Deno.test("reorder buffer declares a gap lost once the window fills, and late packets are dropped", () => {
  const { out, buffer } = run(2, [1, 3, 4, 5, 2, 6]);
  assertEquals(out, [1, 3, 4, 5, 6]);
  assertEquals(buffer.stats.lost, 1);
  assertEquals(buffer.stats.late, 1);
});

Deno.test("reorder buffer treats a huge jump as a restart, not as loss", () => {
  const { out, buffer } = run(4, [100, 101, 40000, 40001]);
  assertEquals(out, [100, 101, 40000, 40001]);
  assertEquals(buffer.stats.lost, 0);
});
