/**
 * Unit tests of the draft-14 Publisher half on its own: its SessionCore is a recorder of the
 * control messages it sends, its transport an in-memory pair whose far end the test reads.
 * Each test walks one edge of a served subscription's life: SUBSCRIBE → SUBSCRIBE_OK or
 * SUBSCRIBE_ERROR, objects on data streams, PUBLISH_DONE at the track's end, UNSUBSCRIBE,
 * a paused (forward = 0) subscription, and the half's close.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { type Authorize, TrackError, TrackProducer } from "../../../../src/relay/model/mod.ts";
import { Publisher } from "../../../../src/relay/wire/draft14/publisher.ts";
import type { Subscribe } from "../../../../src/relay/wire/draft14/messages.ts";
import {
  PublishDoneCode,
  SubscribeErrorCode,
} from "../../../../src/relay/wire/draft14/error_codes.ts";
import { readDataStreamHeader } from "../../../../src/relay/wire/draft14/data_stream.ts";
import { readSubgroupObject } from "../../../../src/relay/wire/draft14/subgroup_stream.ts";
import { StreamReader } from "../../../../src/relay/wire/coding/stream_reader.ts";
import { recordingCore } from "./_recording_core.ts";

/** A Publisher over a recording core (see `_recording_core.ts`). */
function publisherFixture(authorize: Authorize = () => true) {
  const recording = recordingCore(authorize, 1);
  const publisher = new Publisher(recording.core);
  return Object.assign(recording, {
    publisher,
    [Symbol.dispose]() {
      publisher.close();
      recording.peer.close();
    },
  });
}

function subscribe(requestId: number, name: string, extra: Partial<Subscribe> = {}): Subscribe {
  return {
    type: "subscribe",
    requestId,
    namespace: ["voice", "CApub"],
    name,
    subscriberPriority: 128,
    groupOrder: 0,
    forward: true,
    filter: { type: "largest_object" },
    parameters: new Map(),
    ...extra,
  };
}

/** Reads one group's data stream at the peer: `alias/group/object:payload` per object. */
async function readGroup(streams: ReadableStreamDefaultReader<ReadableStream<Uint8Array>>) {
  const reader = new StreamReader((await streams.read()).value!);
  const header = await readDataStreamHeader(reader);
  if (header?.type !== "subgroup") throw new Error("expected a subgroup stream");
  const seen: string[] = [];
  let prev: number | undefined;
  for (let o; (o = await readSubgroupObject(reader, header.header, prev));) {
    prev = o.objectId;
    seen.push(`${header.header.trackAlias}/${header.header.groupId}/${o.objectId}:${o.payload}`);
  }
  return seen;
}

Deno.test("publisher: a SUBSCRIBE to a track in the origin gets SUBSCRIBE_OK, its objects, then PUBLISH_DONE at the end", async () => {
  using fx = publisherFixture();
  const track = fx.origin.publishTrack({
    namespace: ["voice", "CApub"],
    name: "uplink",
    capability: "voice/opus",
  });
  const served = fx.publisher.onSubscribe(subscribe(0, "uplink"));
  const ok = await fx.sent("subscribe_ok");
  assertEquals([ok.requestId, ok.trackAlias, ok.largest], [0, 0, undefined]);
  assertEquals(fx.publisher.servingCount, 1);

  const group = track.appendGroup();
  group.write({ id: 0, payload: Uint8Array.of(7) });
  group.write({ id: 1, payload: Uint8Array.of(8) });
  group.close();
  const streams = fx.peer.incomingUni.getReader();
  assertEquals(await readGroup(streams), ["0/0/0:7", "0/0/1:8"]);

  track.close();
  await served;
  const done = await fx.sent("publish_done");
  assertEquals([done.requestId, done.statusCode, done.streamCount], [
    0,
    PublishDoneCode.TRACK_ENDED,
    1,
  ]);
  assertEquals(fx.publisher.servingCount, 0);
  assertEquals(fx.failures, []);
});

Deno.test("publisher: a SUBSCRIBE the policy refuses, or to no track, gets SUBSCRIBE_ERROR and serves nothing", async () => {
  using refusing = publisherFixture((operation) => operation !== "subscribe");
  await refusing.publisher.onSubscribe(subscribe(0, "uplink"));
  const refused = await refusing.sent("subscribe_error");
  assertEquals([refused.requestId, refused.errorCode], [0, SubscribeErrorCode.UNAUTHORIZED]);
  assertEquals(refusing.publisher.servingCount, 0);

  using fx = publisherFixture();
  await fx.publisher.onSubscribe(subscribe(2, "nobody-publishes-this"));
  const missing = await fx.sent("subscribe_error");
  assertEquals(
    [missing.requestId, missing.errorCode],
    [2, SubscribeErrorCode.TRACK_DOES_NOT_EXIST],
  );
  assertEquals(fx.publisher.servingCount, 0);
  assertEquals(fx.messages.filter((m) => m.type === "subscribe_ok"), []);
});

Deno.test("publisher: UNSUBSCRIBE stops a served track without PUBLISH_DONE; a late one is ignored", async () => {
  using fx = publisherFixture();
  const track = fx.origin.publishTrack({ namespace: ["voice", "CApub"], name: "downlink" });
  const served = fx.publisher.onSubscribe(subscribe(0, "downlink"));
  await fx.sent("subscribe_ok");
  fx.publisher.onUnsubscribe({ type: "unsubscribe", requestId: 0 });
  await served;
  assertEquals(fx.publisher.servingCount, 0);
  fx.publisher.onUnsubscribe({ type: "unsubscribe", requestId: 0 }); // crossed PUBLISH_DONE
  track.close();
  assertEquals(fx.messages.map((m) => m.type), ["subscribe_ok"]);
  assertEquals(fx.failures, []);
});

Deno.test("publisher: a paused subscription (forward = 0) sends no data until SUBSCRIBE_UPDATE resumes it", async () => {
  using fx = publisherFixture();
  const track = fx.origin.publishTrack({ namespace: ["voice", "CApub"], name: "uplink" });
  const served = fx.publisher.onSubscribe(subscribe(0, "uplink", { forward: false }));
  await fx.sent("subscribe_ok");
  const paused = track.appendGroup();
  paused.write({ id: 0, payload: Uint8Array.of(1) });
  paused.close();
  // A round trip through the origin: a second subscriber has seen the paused group, so the
  // paused forwarder has had every chance to send it.
  const witness = await fx.origin.subscribe(["voice", "CApub"], "uplink");
  const live = track.appendGroup();
  live.write({ id: 0, payload: Uint8Array.of(2) });
  for (let seen; (seen = await witness.nextGroup())?.id !== live.id;) assert(seen, "live group");
  witness.close();
  assertEquals(fx.opened, 0, "no data stream while forward = 0");
  fx.publisher.onSubscribeUpdate({
    type: "subscribe_update",
    requestId: 2,
    subscriptionRequestId: 0,
    start: { group: 0, object: 0 },
    subscriberPriority: 128,
    forward: true,
    parameters: new Map(),
  });
  live.close();
  // Resumed: the live group reaches the peer (a group buffered while paused may precede it).
  const streams = fx.peer.incomingUni.getReader();
  const seen: string[] = [];
  while (!seen.includes("0/1/0:2")) seen.push(...await readGroup(streams));
  assertEquals(seen.at(-1), "0/1/0:2");
  track.close();
  await served;
  assertEquals((await fx.sent("publish_done")).streamCount, fx.opened);
});

Deno.test("publisher: once closed, publish() is refused and served subscriptions stop", async () => {
  using fx = publisherFixture();
  fx.origin.publishTrack({ namespace: ["voice", "CApub"], name: "uplink" });
  const served = fx.publisher.onSubscribe(subscribe(0, "uplink"));
  await fx.sent("subscribe_ok");
  fx.publisher.close();
  fx.publisher.close(); // twice is a no-op
  await served;
  assertEquals(fx.publisher.servingCount, 0);
  const other = new TrackProducer({ namespace: ["voice", "CApub"], name: "other" });
  const error = await assertRejects(() => fx.publisher.publish(other.consume()), TrackError);
  assert(error.message.length > 0);
});
