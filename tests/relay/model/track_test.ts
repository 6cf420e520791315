import { assertEquals, assertThrows } from "@std/assert";
import { TrackProducer } from "../../../src/relay/model/track.ts";

const info = { namespace: ["voice", "CA1"], name: "uplink", capability: "voice/opus" };

Deno.test("track consumers see groups in order and end when the producer closes", async () => {
  const track = new TrackProducer(info);
  const reader = track.consume();
  track.appendGroup().close();
  track.appendGroup().close();
  assertEquals((await reader.nextGroup())?.id, 0);
  assertEquals((await reader.nextGroup())?.id, 1);
  const end = reader.nextGroup();
  track.close();
  assertEquals(await end, undefined);
  assertEquals(await reader.closed, undefined);
});

Deno.test("late joiner starts at the newest group from its first object", async () => {
  const track = new TrackProducer(info);
  track.appendGroup().close();
  const g1 = track.appendGroup();
  g1.write({ id: 0, payload: new Uint8Array(1) });
  g1.write({ id: 1, payload: new Uint8Array(1) });
  const late = track.consume();
  const group = await late.nextGroup();
  assertEquals(group?.id, 1);
  assertEquals((await group?.readObject())?.id, 0);
});

Deno.test("slow track consumer skips groups that left the window", async () => {
  const track = new TrackProducer(info, { window: 2 });
  const slow = track.consume();
  for (let i = 0; i < 10; i++) track.appendGroup().close();
  assertEquals((await slow.nextGroup())?.id, 8);
  assertEquals((await slow.nextGroup())?.id, 9);
});

Deno.test("a group older than the newest reaches only readers not past it", async () => {
  const track = new TrackProducer(info);
  const reader = track.consume();
  track.appendGroup(5);
  assertEquals((await reader.nextGroup())?.id, 5);
  track.appendGroup(4);
  track.appendGroup(6);
  assertEquals((await reader.nextGroup())?.id, 6);
  assertEquals(track.appendGroup(6).done, true, "duplicate group id is detached");
});

Deno.test("closing the last consumer fires onUnused once per drop to zero", () => {
  const track = new TrackProducer(info);
  let unused = 0;
  track.onUnused(() => unused++);
  const a = track.consume();
  const b = a.clone();
  a.close();
  a.close();
  assertEquals(unused, 0);
  b.close();
  assertEquals(unused, 1);
  assertThrows(() => b.clone(), TypeError);
});

Deno.test("aborted track reports its error to consumers", async () => {
  const track = new TrackProducer(info);
  const reader = track.consume();
  const error = new Error("publisher gone");
  track.abort(error);
  assertEquals(await reader.closed, error);
  assertEquals(await reader.nextGroup(), undefined);
});

Deno.test("a superseded track keeps its consumers: they read the new writer's groups, shifted past the old ids, and only the new writer ends the track", async () => {
  const old = new TrackProducer(info);
  const reader = old.consume();
  const open = old.appendGroup(9);
  open.write({ id: 0, payload: Uint8Array.of(1) });
  const fresh = old.supersede();
  assertEquals(open.done, true, "the old writer's open group is ended");
  assertEquals(old.done, true);
  assertEquals(((await old.closed) as Error & { reason: string }).reason, "superseded");
  assertEquals(old.appendGroup(50).done, true, "the old writer writes nothing any more");
  old.close();
  old.abort(new Error("late"));
  assertEquals(fresh.done, false, "closing the old writer does not end the track");
  assertThrows(() => old.supersede(), TypeError);

  fresh.appendGroup(0).write({ id: 0, payload: Uint8Array.of(2) });
  assertEquals((await reader.nextGroup())?.id, 9);
  const next = await reader.nextGroup();
  assertEquals(next?.id, 10);
  assertEquals((await next?.readObject())?.payload[0], 2);
  assertEquals(fresh.consumers, 1);
  fresh.close();
  assertEquals(await reader.closed, undefined);
  assertEquals(await reader.nextGroup(), undefined);
});
