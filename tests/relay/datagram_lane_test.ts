/**
 * The opt-in datagram lane over real QUIC through the relay: used only when the publisher
 * offers it and the subscriber accepts it; everyone else gets reliable group streams.
 */
import { assert, assertEquals, assertGreaterOrEqual } from "@std/assert";
import { startRelay } from "../_lib/relay_fixture.ts";
import type { MoqObject, TrackConsumer, TrackInfo } from "../../src/relay/model/mod.ts";
import { attach } from "../../src/bridge/mod.ts";
import type { MoqClient } from "../../src/relay/client.ts";
import { nowMicros } from "../../src/voice/track.ts";
import { encodeUlaw } from "../../src/codecs/g711.ts";

async function readObjects(track: TrackConsumer, count: number): Promise<MoqObject[]> {
  const seen: MoqObject[] = [];
  while (seen.length < count) {
    const group = await track.nextGroup();
    if (!group) break;
    for (let o; seen.length < count && (o = await group.readObject());) seen.push(o);
  }
  return seen;
}

const info = (sid: string, datagrams?: boolean): TrackInfo => ({
  namespace: ["voice", sid],
  name: "uplink",
  capability: "voice/opus",
  datagrams,
});

/** Writes `groups` groups of `perGroup` objects, payload = [group, object]. */
async function writeGroups(
  track: { appendGroup(): { id: number; write(o: MoqObject): boolean; close(): void } },
  groups: number,
  perGroup: number,
): Promise<void> {
  for (let g = 0; g < groups; g++) {
    const group = track.appendGroup();
    for (let i = 0; i < perGroup; i++) group.write({ id: i, payload: Uint8Array.of(group.id, i) });
    group.close();
    await new Promise((r) => setTimeout(r, 0));
  }
}

const ids = (objects: MoqObject[]) => objects.map((o) => `${o.payload[0]}/${o.payload[1]}`);

Deno.test("the datagram lane is used only by a subscriber that accepts it; the other gets streams", async () => {
  await using fx = await startRelay();
  const publisher = await fx.client();
  const track = await publisher.publish(info("CAdg1", true));
  const wants = await (await fx.client()).subscribe(["voice", "CAdg1"], "uplink", {
    datagrams: true,
  });
  const plain = await (await fx.client()).subscribe(["voice", "CAdg1"], "uplink");
  // What the relay itself receives from the publisher (it accepted the offered lane).
  const atRelay = await fx.relay.origin.subscribe(["voice", "CAdg1"], "uplink");
  assertEquals(wants.info.datagrams, true, "SUBSCRIBE_OK granted the lane");
  assert(!plain.info.datagrams, "no lane for the subscriber that did not ask");
  const reading = [readObjects(wants, 15), readObjects(plain, 15), readObjects(atRelay, 15)];
  await writeGroups(track, 3, 5);
  const [viaDatagrams, viaStreams, relayed] = await Promise.all(reading);
  const expected = Array.from({ length: 15 }, (_, k) => `${Math.floor(k / 5)}/${k % 5}`);
  assertEquals(ids(viaStreams), expected, "streams: every object, in order");
  assert(viaStreams.every((o) => !o.datagram), "the plain subscriber got no datagram");
  assert(relayed.every((o) => o.datagram), "the publisher sent datagrams to the relay");
  assert(viaDatagrams.every((o) => o.datagram), "the accepting subscriber got datagrams");
  // Loopback loses nothing at this rate, but datagrams may be dropped: each one that arrived
  // is one that was sent, in its group.
  assert(ids(viaDatagrams).every((id) => expected.includes(id)));
  assertGreaterOrEqual(viaDatagrams.length, 1);
  atRelay.close();
});

Deno.test("a publisher that does not offer the lane sends streams even to a subscriber that accepts it", async () => {
  await using fx = await startRelay();
  const publisher = await fx.client();
  const track = await publisher.publish(info("CAdg2"));
  const wants = await (await fx.client()).subscribe(["voice", "CAdg2"], "uplink", {
    datagrams: true,
  });
  const atRelay = await fx.relay.origin.subscribe(["voice", "CAdg2"], "uplink");
  assert(!wants.info.datagrams, "SUBSCRIBE_OK did not grant a lane the track does not have");
  const reading = [readObjects(wants, 10), readObjects(atRelay, 10)];
  await writeGroups(track, 2, 5);
  const [got, relayed] = await Promise.all(reading);
  assertEquals(ids(got).length, 10);
  assert(got.every((o) => !o.datagram) && relayed.every((o) => !o.datagram));
  atRelay.close();
});

Deno.test("a namespace publisher's lane is learnt from SUBSCRIBE_OK and offered on downstream", async () => {
  await using fx = await startRelay();
  const publisher: MoqClient = await fx.client();
  const trackOf = await publisher.publishNamespace(["voice", "CAdg3"]);
  // The namespace publisher's local track is on the lane; the relay learns it upstream.
  const uplink = trackOf("uplink", "voice/opus");
  uplink.setDatagrams(true);
  const wants = await (await fx.client()).subscribe(["voice", "CAdg3"], "uplink", {
    datagrams: true,
  });
  const plain = await (await fx.client()).subscribe(["voice", "CAdg3"], "uplink");
  assertEquals(wants.info.datagrams, true);
  assert(!plain.info.datagrams);
  const reading = [readObjects(wants, 10), readObjects(plain, 10)];
  await writeGroups(uplink, 2, 5);
  const [viaDatagrams, viaStreams] = await Promise.all(reading);
  assertEquals(viaStreams.length, 10);
  assert(viaStreams.every((o) => !o.datagram));
  assert(viaDatagrams.every((o) => o.datagram));
});

Deno.test("on the datagram lane the playout side drops a late frame instead of playing it", async () => {
  await using fx = await startRelay();
  const sid = "CAdg4";
  const publisher = await fx.client();
  const uplink = await publisher.publish({
    namespace: ["voice", sid],
    name: "uplink",
    capability: "voice/g711_ulaw",
    datagrams: true,
  });
  const client = await fx.client();
  // The bridge subscribes through a connection that accepts the lane.
  const via = {
    publish: (i: TrackInfo) => client.publish(i),
    subscribe: (ns: readonly string[], name: string) =>
      client.subscribe(ns, name, { datagrams: true }),
  };
  await using agent = await attach(via, { sid, codec: "g711_ulaw", maxLatencyMs: 200 });
  const frame = encodeUlaw(new Int16Array(160).fill(1000));
  // 30 frames in groups of 10 (the voice convention); frame 15 was captured 2 s before the
  // others (as if it sat in a queue that long).
  const played: number[] = [];
  const concealed: number[] = [];
  let group = uplink.appendGroup();
  for (let i = 0; i < 30; i++) {
    if (i > 0 && i % 10 === 0) {
      group.close();
      group = uplink.appendGroup();
    }
    group.write({
      id: i % 10,
      payload: frame,
      timestamp: nowMicros() - (i === 15 ? 2_000_000 : 0),
    });
    if (i === 15) continue; // nothing to play until the next frame comes (15 is dropped)
    // Read up to frame i (a concealed frame would come first for a gap).
    for (;;) {
      const got = await agent.read();
      assert(got, "the track is still on");
      (got.concealed ? concealed : played).push(got.seq);
      if (got.seq >= i) break;
    }
  }
  group.close();
  assertEquals(agent.stats.lateDropped, 1, "the 2 s old frame was dropped");
  // Every frame on time was played; the stale one never was (the stream's seq skips it).
  assertEquals(played, Array.from({ length: 30 }, (_, i) => i).filter((i) => i !== 15));
  assertEquals(concealed, []);
});
