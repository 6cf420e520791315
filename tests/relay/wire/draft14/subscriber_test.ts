/**
 * Unit tests of the draft-14 Subscriber half on its own: its SessionCore records the control
 * messages it sends and answers request ids; the test plays the peer by calling its
 * handlers. Each test walks one edge of an upstream track's life: PUBLISH_NAMESPACE (and its
 * DONE), SUBSCRIBE upstream answered by OK or ERROR, PUBLISH accepted or refused, a subgroup
 * stream's objects into the origin, PUBLISH_DONE, our UNSUBSCRIBE when the track ends here,
 * and the half's close.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { type Authorize, TrackError } from "../../../../src/relay/model/mod.ts";
import { Subscriber } from "../../../../src/relay/wire/draft14/subscriber.ts";
import type { Publish, PublishNamespace } from "../../../../src/relay/wire/draft14/messages.ts";
import {
  PublishDoneCode,
  PublishErrorCode,
  PublishNamespaceErrorCode,
  SubscribeErrorCode,
} from "../../../../src/relay/wire/draft14/error_codes.ts";
import { capabilityParameters } from "../../../../src/relay/wire/draft14/capability_parameter.ts";
import {
  encodeSubgroupHeader,
  encodeSubgroupObject,
  type SubgroupHeader,
} from "../../../../src/relay/wire/draft14/subgroup_stream.ts";
import { ObjectStatus } from "../../../../src/relay/wire/draft14/data_object.ts";
import { StreamReader } from "../../../../src/relay/wire/coding/stream_reader.ts";
import { readDataStreamHeader } from "../../../../src/relay/wire/draft14/data_stream.ts";
import { recordingCore } from "./_recording_core.ts";

const NS = ["voice", "CAsub"];

/** A Subscriber over a recording core (see `_recording_core.ts`). */
function subscriberFixture(authorize: Authorize = () => true) {
  const recording = recordingCore(authorize, 0);
  const subscriber = new Subscriber(recording.core);
  return Object.assign(recording, {
    subscriber,
    [Symbol.dispose]() {
      subscriber.close();
      recording.peer.close();
    },
  });
}

/** The peer's PUBLISH_NAMESPACE `requestId` of `namespace` (the call's by default). */
function publishNamespace(requestId: number, namespace: string[] = NS): PublishNamespace {
  return { type: "publish_namespace", requestId, namespace, parameters: new Map() };
}

function publish(requestId: number, name: string, trackAlias: number): Publish {
  return {
    type: "publish",
    requestId,
    namespace: NS,
    name,
    trackAlias,
    groupOrder: 1,
    forward: true,
    parameters: capabilityParameters("voice/g711_ulaw"),
  };
}

/** One subgroup stream (header + objects, FIN) as the peer would send it, read back. */
async function subgroupStream(trackAlias: number, groupId: number, payloads: number[]) {
  const header: SubgroupHeader = {
    headerType: 0x14,
    trackAlias,
    groupId,
    subgroupId: 0,
    publisherPriority: 0,
  };
  const chunks = [encodeSubgroupHeader(header)];
  let prev: number | undefined;
  for (const [id, value] of payloads.entries()) {
    chunks.push(
      encodeSubgroupObject(0x14, prev, {
        objectId: id,
        status: ObjectStatus.NORMAL,
        payload: Uint8Array.of(value),
      }),
    );
    prev = id;
  }
  const reader = new StreamReader(ReadableStream.from(chunks));
  const parsed = await readDataStreamHeader(reader);
  if (parsed?.type !== "subgroup") throw new Error("expected a subgroup header");
  return { header: parsed.header, reader };
}

Deno.test("subscriber: PUBLISH_NAMESPACE is acknowledged once per namespace, refused without the right, and DONE withdraws it", () => {
  using fx = subscriberFixture((operation, ns) => operation === "publish" && ns[1] !== "CAno");
  fx.subscriber.onPublishNamespace(publishNamespace(1));
  fx.subscriber.onPublishNamespace(publishNamespace(3)); // a retry
  fx.subscriber.onPublishNamespace(publishNamespace(5, ["voice", "CAno"]));
  assertEquals(
    fx.messages.map((m) => [m.type, "requestId" in m ? m.requestId : -1]),
    [["publish_namespace_ok", 1], ["publish_namespace_ok", 3], ["publish_namespace_error", 5]],
  );
  const refused = fx.messages[2];
  assert(refused.type === "publish_namespace_error");
  assertEquals(refused.errorCode, PublishNamespaceErrorCode.UNAUTHORIZED);
  assert(fx.subscriber.publishes(NS));
  assertEquals(fx.origin.namespaces().map((ns) => ns.join("/")), ["voice/CAsub"]);

  fx.subscriber.onPublishNamespaceDone({ type: "publish_namespace_done", namespace: NS });
  assert(!fx.subscriber.publishes(NS));
  assertEquals(fx.origin.namespaces(), []);
});

Deno.test("subscriber: a local subscription becomes one upstream SUBSCRIBE; OK binds it (capability and all), our end UNSUBSCRIBEs", async () => {
  using fx = subscriberFixture();
  fx.subscriber.onPublishNamespace(publishNamespace(1));
  const consumer = fx.origin.subscribe(NS, "uplink");
  const subscribe = await fx.sent("subscribe");
  assertEquals([subscribe.namespace, subscribe.name, subscribe.forward], [NS, "uplink", true]);
  assert(
    fx.subscriber.onSubscribeReply({
      type: "subscribe_ok",
      requestId: subscribe.requestId,
      trackAlias: 9,
      expires: 0,
      groupOrder: 1,
      parameters: capabilityParameters("voice/opus"),
    }),
  );
  const track = await consumer;
  assertEquals(track.info.capability, "voice/opus");
  assertEquals(fx.subscriber.receivingCount, 1);

  // Objects on alias 9 reach the local consumer.
  const { header, reader } = await subgroupStream(9, 0, [4, 5]);
  await fx.subscriber.onSubgroup(header, reader);
  const group = (await track.nextGroup())!;
  assertEquals([(await group.readObject())?.payload, (await group.readObject())?.payload], [
    Uint8Array.of(4),
    Uint8Array.of(5),
  ]);

  // The last local consumer leaving ends the upstream subscription.
  track.close();
  const unsubscribe = await fx.sent("unsubscribe");
  assertEquals(unsubscribe.requestId, subscribe.requestId);
  assertEquals(fx.failures, []);
});

Deno.test("subscriber: SUBSCRIBE_ERROR fails the local subscription with the mapped reason; unknown replies are not ours", async () => {
  using fx = subscriberFixture();
  fx.subscriber.onPublishNamespace(publishNamespace(1));
  const consumer = fx.origin.subscribe(NS, "downlink");
  const subscribe = await fx.sent("subscribe");
  fx.subscriber.onSubscribeReply({
    type: "subscribe_error",
    requestId: subscribe.requestId,
    errorCode: SubscribeErrorCode.TRACK_DOES_NOT_EXIST,
    reason: "nope",
  });
  const error = await assertRejects(() => consumer, TrackError);
  assertEquals(error.reason, "not_found");
  assertEquals(
    fx.subscriber.onSubscribeReply({
      type: "subscribe_error",
      requestId: 40,
      errorCode: 0,
      reason: "",
    }),
    false,
  );
  assertEquals(fx.subscriber.receivingCount, 0);
});

Deno.test("subscriber: PUBLISH puts the track in the origin with its capability; PUBLISH_DONE ends it; a refused PUBLISH gets PUBLISH_ERROR", async () => {
  using fx = subscriberFixture((_op, ns) => ns[1] === NS[1]);
  fx.subscriber.onPublish(publish(1, "uplink", 3));
  const ok = await fx.sent("publish_ok");
  assertEquals([ok.requestId, ok.forward], [1, true]);
  const consumer = await fx.origin.subscribe(NS, "uplink");
  assertEquals(consumer.info.capability, "voice/g711_ulaw");

  const { header, reader } = await subgroupStream(3, 0, [1]);
  await fx.subscriber.onSubgroup(header, reader);
  assertEquals((await (await consumer.nextGroup())!.readObject())?.payload, Uint8Array.of(1));

  assert(
    fx.subscriber.onPublishDone({
      type: "publish_done",
      requestId: 1,
      statusCode: PublishDoneCode.TRACK_ENDED,
      streamCount: 0, // @moq/net always says 0: the track ends on PUBLISH_DONE itself
      reason: "done",
    }),
  );
  assertEquals(await consumer.nextGroup(), undefined);
  assertEquals(fx.subscriber.receivingCount, 0);
  // The peer ended it: no UNSUBSCRIBE goes back.
  assertEquals(fx.messages.filter((m) => m.type === "unsubscribe"), []);

  fx.subscriber.onPublish({ ...publish(3, "uplink", 4), namespace: ["voice", "CAother"] });
  const refused = await fx.sent("publish_error");
  assertEquals([refused.requestId, refused.errorCode], [3, PublishErrorCode.UNAUTHORIZED]);
});

Deno.test("subscriber: PUBLISH_DONE with GOING_AWAY aborts the track as going_away; one crossing our UNSUBSCRIBE is known, a stray one is not", async () => {
  using fx = subscriberFixture();
  fx.subscriber.onPublish(publish(1, "uplink", 3));
  fx.subscriber.onPublish(publish(3, "downlink", 4));
  const uplink = await fx.origin.subscribe(NS, "uplink");
  const downlink = await fx.origin.subscribe(NS, "downlink");
  fx.subscriber.onPublishDone({
    type: "publish_done",
    requestId: 1,
    statusCode: PublishDoneCode.GOING_AWAY,
    streamCount: 0,
    reason: "moving",
  });
  const gone = await uplink.closed;
  assert(gone instanceof TrackError);
  assertEquals(gone.reason, "going_away");

  // The relay ends the downlink here (a hangup): UNSUBSCRIBE goes to the peer, and its
  // PUBLISH_DONE that crossed it is late, not unknown.
  fx.origin.closeTracks(NS);
  await downlink.closed;
  assertEquals((await fx.sent("unsubscribe")).requestId, 3);
  const crossed = {
    type: "publish_done",
    requestId: 3,
    statusCode: PublishDoneCode.TRACK_ENDED,
    streamCount: 0,
    reason: "",
  } as const;
  assertEquals(fx.subscriber.onPublishDone(crossed), true);
  assertEquals(fx.subscriber.onPublishDone({ ...crossed, requestId: 99 }), false);
});

Deno.test("subscriber: close() fails pending upstream subscriptions and received tracks as going_away; twice is a no-op", async () => {
  using fx = subscriberFixture();
  fx.subscriber.onPublishNamespace(publishNamespace(1));
  fx.subscriber.onPublish(publish(3, "uplink", 3));
  const received = await fx.origin.subscribe(NS, "uplink");
  const pending = fx.origin.subscribe(NS, "downlink");
  await fx.sent("subscribe");
  fx.subscriber.close();
  fx.subscriber.close();
  assertEquals((await assertRejects(() => pending, TrackError)).reason, "going_away");
  const ended = await received.closed;
  assert(ended instanceof TrackError);
  assertEquals(ended.reason, "going_away");
  assertEquals(fx.origin.namespaces(), []);
  // Nothing new starts on a closed half.
  await assertRejects(() => fx.origin.subscribe(NS, "other"), TrackError);
});
