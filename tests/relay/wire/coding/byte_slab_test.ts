import { assert, assertEquals, assertThrows } from "@std/assert";
import { ByteSlab } from "../../../../src/relay/wire/coding/byte_slab.ts";

Deno.test("ByteSlab carves short runs out of one slab, 8-byte aligned, as copies of their source", () => {
  const slab = new ByteSlab({ slabSize: 64, maxRun: 32 });
  const source = Uint8Array.from({ length: 40 }, (_, i) => i);
  const a = slab.copy(source, 3, 8);
  const b = slab.copy(source, 0, 11);
  assertEquals([...a], [3, 4, 5, 6, 7]);
  assertEquals([...b], [...source.subarray(0, 11)]);
  assertEquals(a.buffer, b.buffer);
  assertEquals([a.byteOffset, b.byteOffset], [0, 8]);
  source.fill(0);
  assertEquals(a[0], 3, "the source can be reused");
  b.fill(0xff);
  assertEquals([...a], [3, 4, 5, 6, 7], "runs never overlap");
});

Deno.test("ByteSlab starts a fresh slab when a run does not fit, and gives long runs their own array", () => {
  const slab = new ByteSlab({ slabSize: 64, maxRun: 32 });
  const first = slab.alloc(32);
  const second = slab.alloc(32);
  const third = slab.alloc(1);
  assertEquals(first.buffer, second.buffer);
  assert(third.buffer !== first.buffer, "a new slab");
  assertEquals(third.byteOffset, 0);
  assert(third.every((x) => x === 0), "fresh bytes are zero");
  const long = slab.alloc(33);
  assertEquals([long.byteOffset, long.buffer.byteLength], [0, 33]);
  assertEquals(slab.alloc(0).length, 0);
});

Deno.test("ByteSlab refuses a maxRun larger than its slabs", () => {
  assertThrows(() => new ByteSlab({ slabSize: 16, maxRun: 17 }), RangeError, "exceeds slabSize");
});
