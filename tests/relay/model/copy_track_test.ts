import { assertEquals, assertRejects } from "@std/assert";
import { copyTrack } from "../../../src/relay/model/copy_track.ts";
import { TrackProducer } from "../../../src/relay/model/track.ts";
import { TrackError } from "../../../src/relay/model/track_error.ts";

const info = { namespace: ["voice", "CA1"], name: "uplink" };

Deno.test("copyTrack keeps group ids, copies groups independently and counts bytes", async () => {
  const source = new TrackProducer(info);
  const copy = new TrackProducer(info);
  const reader = copy.consume();
  const sizes: number[] = [];
  const copying = copyTrack(source.consume(), copy, { onObject: (n) => sizes.push(n) });
  const first = source.appendGroup(3);
  first.write({ id: 0, payload: new Uint8Array(10) });
  // A second group arrives while the first is still open: it is copied without waiting.
  const second = source.appendGroup(4);
  second.write({ id: 0, payload: new Uint8Array(20) });
  second.close();
  const g3 = await reader.nextGroup();
  const g4 = await reader.nextGroup();
  assertEquals([g3?.id, g4?.id], [3, 4]);
  assertEquals((await g4?.readObject())?.payload.byteLength, 20);
  first.write({ id: 1, payload: new Uint8Array(30) });
  first.close();
  assertEquals((await g3?.readObject())?.payload.byteLength, 10);
  assertEquals((await g3?.readObject())?.payload.byteLength, 30);
  assertEquals(await g3?.readObject(), undefined);
  source.close();
  await copying;
  assertEquals(sizes.sort((a, b) => a - b), [10, 20, 30]);
  assertEquals(await reader.closed, undefined);
});

Deno.test("copyTrack aborts the copy's group and track as the source's end", async () => {
  const source = new TrackProducer(info);
  const copy = new TrackProducer(info);
  const reader = copy.consume();
  const copying = copyTrack(source.consume(), copy);
  const group = source.appendGroup(0);
  group.write({ id: 0, payload: Uint8Array.of(1) });
  const copied = await reader.nextGroup();
  assertEquals((await copied?.readObject())?.payload, Uint8Array.of(1));
  group.abort(new TrackError("internal", "stream reset"));
  await assertRejects(() => copied!.readObject(), TrackError, "stream reset");
  source.abort(new TrackError("not_found", "publisher gone"));
  await copying;
  assertEquals((await reader.closed)?.message, "publisher gone");
});
