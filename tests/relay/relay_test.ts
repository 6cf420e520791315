import { assertEquals, assertGreater } from "@std/assert";
import { publishedPair, startRelay, until } from "../_lib/relay_fixture.ts";
import type { TrackConsumer } from "../../src/relay/model/mod.ts";
import { pace, Progress, quietPeriod } from "../_lib/wait.ts";

const NS = ["voice", "CA1"];

async function readObjects(
  track: TrackConsumer,
  count: number,
  progress = new Progress(),
): Promise<number[]> {
  const seen: number[] = [];
  while (seen.length < count) {
    const group = await track.nextGroup();
    if (!group) break;
    for (let o; seen.length < count && (o = await group.readObject());) {
      seen.push(o.payload[0]);
      progress.add();
    }
  }
  return seen;
}

Deno.test("a published track reaches a subscriber through the relay over real QUIC", async () => {
  await using fx = await startRelay();
  const { track: uplink, reader } = await publishedPair(fx, {
    namespace: NS,
    name: "uplink",
    capability: "voice/opus",
  });
  assertEquals(reader.info.capability, "voice/opus", "capability travels in SUBSCRIBE_OK");
  const progress = new Progress();
  const pending = readObjects(reader, 20, progress);
  for (let g = 0; g < 4; g++) {
    const group = uplink.appendGroup();
    for (let i = 0; i < 5; i++) group.write({ id: i, payload: Uint8Array.of(g * 5 + i) });
    group.close();
    await progress.reached(5 * (g + 1), `group ${g} at the subscriber`);
  }
  assertEquals(await pending, Array.from({ length: 20 }, (_, i) => i));
});

Deno.test("subscribe before the publisher appears waits, then flows", async () => {
  await using fx = await startRelay({ subscribeTimeoutMs: 3000 });
  const subscriber = await fx.client();
  const pendingSub = subscriber.subscribe(NS, "downlink");
  let answered = false;
  pendingSub.then(() => answered = true, () => answered = true);
  await quietPeriod(100); // the SUBSCRIBE reaches the relay, which must hold it, not answer it
  assertEquals(answered, false, "nothing answers a subscribe before its publisher appears");
  const publisher = await fx.client();
  const track = await publisher.publish({
    namespace: NS,
    name: "downlink",
    capability: "voice/pcm16",
  });
  const reader = await pendingSub;
  const pending = readObjects(reader, 3);
  const group = track.appendGroup();
  for (let i = 0; i < 3; i++) group.write({ id: i, payload: Uint8Array.of(i) });
  assertEquals(await pending, [0, 1, 2]);
});

Deno.test("a namespace publisher is subscribed upstream once for many subscribers", async () => {
  await using fx = await startRelay();
  const publisher = await fx.client();
  const trackOf = await publisher.publishNamespace(NS);
  const uplink = trackOf("uplink", "voice/opus");
  await until(() => fx.relay.origin.namespaces().length > 0); // the relay read PUBLISH_NAMESPACE
  const subs = await Promise.all(Array.from({ length: 10 }, () => fx.client()));
  const readers = await Promise.all(subs.map((s) => s.subscribe(NS, "uplink")));
  assertEquals(uplink.consumers, 1, "the relay holds one upstream subscription");
  const pending = readers.map((r) => readObjects(r, 5));
  const group = uplink.appendGroup();
  for (let i = 0; i < 5; i++) group.write({ id: i, payload: Uint8Array.of(i) });
  group.close();
  for (const result of await Promise.all(pending)) assertEquals(result, [0, 1, 2, 3, 4]);
  const unused = new Promise<void>((resolve) => uplink.onUnused(resolve));
  for (const r of readers) r.close();
  await unused;
  assertEquals(uplink.consumers, 0, "the last UNSUBSCRIBE reached the publisher");
});

Deno.test("subscribing to a track nobody publishes gets SUBSCRIBE_ERROR after the bound", async () => {
  await using fx = await startRelay({ subscribeTimeoutMs: 100 });
  const subscriber = await fx.client();
  const error = await subscriber.subscribe(["voice", "nobody"], "uplink").catch((e) => e);
  assertEquals(error?.reason, "not_found");
  assertEquals(subscriber.session.state, "established", "the session survives the refusal");
});

Deno.test("when the publisher leaves, subscribers see the track end", async () => {
  await using fx = await startRelay();
  const { publisher, track, reader } = await publishedPair(fx, {
    namespace: NS,
    name: "uplink",
    capability: "voice/opus",
  });
  track.appendGroup().write({ id: 0, payload: Uint8Array.of(1) });
  assertEquals(await readObjects(reader, 1), [1]);
  publisher.close();
  const closed = await reader.closed;
  assertEquals(closed === undefined || closed instanceof Error, true);
  assertEquals(await reader.nextGroup(), undefined);
  assertGreater(fx.relay.sessionCount, 0);
});

Deno.test("a track on the negotiated datagram lane is forwarded as datagrams", async () => {
  await using fx = await startRelay();
  // The lane is opt-in on both ends (tests/relay/datagram_lane_test.ts covers the refusals).
  const track = await (await fx.client()).publish({
    namespace: NS,
    name: "uplink",
    capability: "voice/opus",
    datagrams: true,
  });
  const reader = await (await fx.client()).subscribe(NS, "uplink", { datagrams: true });
  const received: { id: number; first: number; datagram?: boolean }[] = [];
  const reading = (async () => {
    for (let group; received.length < 10 && (group = await reader.nextGroup());) {
      for (let o; received.length < 10 && (o = await group.readObject());) {
        received.push({ id: o.id, first: o.payload[0], datagram: o.datagram });
      }
    }
  })();
  // Datagrams are unreliable: send until ten arrived (on loopback they all do).
  for (let g = 0; received.length < 10 && g < 50; g++) {
    const group = track.appendGroup();
    for (let i = 0; i < 5; i++) {
      group.write({ id: i, payload: Uint8Array.of(g, i) });
    }
    group.close();
    await pace(20); // a stream at its pace until ten datagrams arrived
  }
  await reading;
  assertEquals(received.length, 10);
  assertEquals(received.every((o) => o.datagram === true), true, "they arrived as datagrams");
  assertEquals(received.slice(0, 5).map((o) => o.id), [0, 1, 2, 3, 4]);
});
