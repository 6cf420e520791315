import { assertEquals, assertThrows } from "@std/assert";
import { ShardPlacement } from "../../../src/relay/shard/placement.ts";

Deno.test("least_loaded places each new call on the shard with the fewest live calls, ties to the lowest index", () => {
  const placement = new ShardPlacement(3, "least_loaded");
  assertEquals(["A", "B", "C", "D"].map((sid) => placement.place(sid)), [0, 1, 2, 0]);
  assertEquals(placement.place("B"), 1, "a placed call keeps its shard");
  placement.release("B");
  placement.release("C");
  assertEquals(placement.loads(), [2, 0, 0]);
  assertEquals(placement.place("E"), 1, "tie between 1 and 2 goes to 1");
  assertEquals(placement.place("F"), 2);
  placement.release("F");
  placement.release("F"); // twice is a no-op
  assertEquals(placement.loads(), [2, 1, 0]);
});

Deno.test("least_loaded skips a lost shard and hands back the calls it held", () => {
  const placement = new ShardPlacement(2, "least_loaded");
  placement.place("A");
  placement.place("B");
  assertEquals(placement.lose(1), ["B"]);
  assertEquals(placement.shardOf("B"), undefined);
  assertEquals(placement.alive(1), false);
  assertEquals(["C", "D"].map((sid) => placement.place(sid)), [0, 0]);
  assertEquals(placement.loads(), [3, 0]);
  placement.lose(0);
  assertThrows(() => placement.place("E"), Error, "no relay shard is alive");
});

Deno.test("hash places a sid by its FNV-1a hash, the same whatever else is live, and spreads sids over the shards", () => {
  const a = new ShardPlacement(2, "hash");
  const b = new ShardPlacement(2, "hash");
  const sids = Array.from({ length: 200 }, (_, i) => `CA${i.toString(16).padStart(8, "0")}`);
  const first = sids.map((sid) => a.place(sid));
  // Placed in the opposite order, with other calls live: the same shards.
  b.place("other");
  assertEquals(sids.toReversed().map((sid) => b.place(sid)).toReversed(), first);
  const onOne = first.filter((s) => s === 1).length;
  assertEquals(onOne > 60 && onOne < 140, true, `${onOne} of 200 on shard 1`);
  // The rule is FNV-1a 32 modulo the shard count, checked against an independent BigInt version.
  assertEquals(new ShardPlacement(2, "hash").place("CA1"), fnvMod("CA1", 2));
  assertEquals(new ShardPlacement(3, "hash").place("CA2"), fnvMod("CA2", 3));
});

Deno.test("hash moves only a lost shard's sids, to the shards alive", () => {
  const placement = new ShardPlacement(3, "hash");
  const sids = Array.from({ length: 60 }, (_, i) => `CA${i}`);
  const before = new Map(sids.map((sid) => [sid, placement.place(sid)]));
  const lost = placement.lose(2);
  assertEquals(lost.sort(), sids.filter((sid) => before.get(sid) === 2).sort());
  for (const sid of sids) {
    if (before.get(sid) !== 2) assertEquals(placement.place(sid), before.get(sid));
  }
  for (const sid of lost) assertEquals(placement.place(sid) === 2, false);
});

Deno.test("a placement refuses a bad shard count or an unknown rule", () => {
  assertThrows(() => new ShardPlacement(0), RangeError, "integer >= 1");
  assertThrows(() => new ShardPlacement(1.5), RangeError);
  assertThrows(
    () => new ShardPlacement(2, "random" as never),
    TypeError,
    'unknown placement rule "random"',
  );
});

/** FNV-1a 32 written out independently of the module (in BigInt), modulo `n`. */
function fnvMod(text: string, n: number): number {
  let h = 2166136261n;
  for (const c of text) {
    h ^= BigInt(c.charCodeAt(0));
    h = (h * 16777619n) % 2n ** 32n;
  }
  return Number(h % BigInt(n));
}
