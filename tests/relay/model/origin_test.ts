import { assertEquals, assertInstanceOf, assertRejects, assertThrows } from "@std/assert";
import {
  Origin,
  type TrackConsumer,
  TrackError,
  type TrackProducer,
} from "../../../src/relay/model/mod.ts";

const NS = ["voice", "CA1"];

Deno.test("origin shares one upstream subscription among many subscribers", async () => {
  const origin = new Origin();
  const served: TrackProducer[] = [];
  origin.publishNamespace(NS, {
    serve(track) {
      served.push(track);
      return Promise.resolve();
    },
  });
  const readers = await Promise.all(
    Array.from({ length: 5 }, () => origin.subscribe(NS, "uplink")),
  );
  assertEquals(served.length, 1);
  const group = served[0].appendGroup();
  group.write({ id: 0, payload: new Uint8Array([9]) });
  for (const r of readers) assertEquals((await (await r.nextGroup())?.readObject())?.payload[0], 9);
  for (const r of readers.slice(1)) r.close();
  assertEquals(served[0].done, false);
  readers[0].close();
  assertEquals(served[0].done, true, "last unsubscribe ends the upstream track");
  assertEquals(origin.trackCount, 0);
});

Deno.test("subscribe before announce waits for the namespace", async () => {
  const origin = new Origin({ subscribeTimeoutMs: 2000 });
  const pending = origin.subscribe(NS, "uplink");
  let answered = false;
  pending.then(() => answered = true, () => answered = true);
  await new Promise((r) => setTimeout(r, 0)); // one turn of the event loop: all it can do now
  assertEquals(answered, false, "the subscribe waits for the namespace");
  origin.publishNamespace(["voice"], { serve: () => Promise.resolve() });
  const reader = await pending;
  assertEquals(reader.info.name, "uplink");
});

Deno.test("subscribers waiting in many namespaces each get their own track as it is pushed, however many others are published", async () => {
  const origin = new Origin({ subscribeTimeoutMs: 60_000 });
  const N = 300;
  const waiting = Array.from(
    { length: N },
    (_, i) => origin.subscribe(["voice", `CA${i}`], "downlink"),
  );
  // A track `name` in each of the namespaces voice/<prefix>0 … voice/<prefix>N-1.
  const publishEach = (prefix: string, name: string) =>
    Array.from(
      { length: N },
      (_, i) =>
        origin.publishTrack({
          namespace: ["voice", `${prefix}${i}`],
          name,
          capability: "voice/pcm16",
        }),
    );
  // Uplinks everywhere (other tracks of the same namespaces, and of others) hand nobody anything.
  const others = publishEach("CA", "uplink");
  const strangers = publishEach("XX", "downlink");
  const downlinks = publishEach("CA", "downlink");
  const readers = await Promise.all(waiting);
  assertEquals(readers.map((r) => r.info.namespace[1]), downlinks.map((_, i) => `CA${i}`));
  for (const r of readers) assertEquals(r.info.name, "downlink");
  for (const t of [...others, ...strangers, ...downlinks]) t.close();
  for (const r of readers) r.close();
});

Deno.test("subscribe to an unknown track fails with not_found after the bound", async () => {
  const origin = new Origin({ subscribeTimeoutMs: 30 });
  const err = await assertRejects(() => origin.subscribe(NS, "uplink"), TrackError);
  assertEquals(err.reason, "not_found");
});

Deno.test("an upstream refusal reaches every waiting subscriber and is forgotten", async () => {
  const origin = new Origin();
  let calls = 0;
  origin.publishNamespace(NS, {
    serve: () => {
      calls++;
      return Promise.reject(new TrackError("unauthorized", "no"));
    },
  });
  const results = await Promise.allSettled([origin.subscribe(NS, "a"), origin.subscribe(NS, "a")]);
  assertEquals(results.map((r) => r.status), ["rejected", "rejected"]);
  assertEquals(calls, 1);
  assertEquals(origin.trackCount, 0);
  await assertRejects(() => origin.subscribe(NS, "a"), TrackError);
  assertEquals(calls, 2);
});

Deno.test("routes get matching live and future tracks, never others", () => {
  const origin = new Origin();
  origin.publishTrack({ namespace: NS, name: "uplink", capability: "voice/opus" });
  const seen: string[] = [];
  const route = origin.route("voice/*", (t: TrackConsumer) => seen.push(t.info.name));
  origin.publishTrack({ namespace: NS, name: "downlink", capability: "voice/pcm16" });
  origin.publishTrack({ namespace: NS, name: "video", capability: "video/h264" });
  route.close();
  origin.publishTrack({ namespace: ["voice", "CA2"], name: "uplink", capability: "voice/opus" });
  assertEquals(seen, ["uplink", "downlink"]);
});

Deno.test("tracks served by a non-routed source keep their capability but are handed to no route", async () => {
  const origin = new Origin();
  const seen: string[] = [];
  using _route = origin.route("*", (t: TrackConsumer) => {
    seen.push(t.info.name);
    t.close();
  });
  const served = (name: string) => (track: TrackProducer) => {
    track.setCapability(`voice/${name}`);
    return Promise.resolve();
  };
  origin.publishNamespace(["voice", "copy"], { serve: served("opus"), routed: false });
  origin.publishNamespace(["voice", "own"], { serve: served("pcm16") });
  using copy = await origin.subscribe(["voice", "copy"], "uplink");
  using own = await origin.subscribe(["voice", "own"], "uplink");
  assertEquals([copy.info.capability, own.info.capability], ["voice/opus", "voice/pcm16"]);
  // Neither when served, nor when a route registers later.
  using _late = origin.route("voice/*", (t: TrackConsumer) => {
    seen.push(`late ${t.info.namespace[1]}`);
    t.close();
  });
  assertEquals(seen, ["uplink", "late own"]);
});

Deno.test("a throwing route handler is reported and does not disturb the publisher", () => {
  const errors: unknown[] = [];
  const origin = new Origin({ onRouteError: (e) => errors.push(e) });
  origin.route("*", () => {
    throw new Error("plugin bug");
  });
  const track = origin.publishTrack({ namespace: NS, name: "uplink", capability: "voice/opus" });
  assertEquals(errors.length, 1);
  assertEquals(track.consumers, 0, "the handler's consumer was closed");
  assertInstanceOf(errors[0], Error);
});

Deno.test("pushing an already published track is refused until it ends", () => {
  const origin = new Origin();
  const first = origin.publishTrack({ namespace: NS, name: "uplink" });
  assertThrows(() => origin.publishTrack({ namespace: NS, name: "uplink" }), TrackError);
  first.close();
  origin.publishTrack({ namespace: NS, name: "uplink" });
});

Deno.test("namespace watchers see current and later namespaces under their prefix", () => {
  const origin = new Origin();
  const a = origin.publishNamespace(["voice", "A"], { serve: () => Promise.resolve() });
  const events: string[] = [];
  using _w = origin.watchNamespaces(
    ["voice"],
    (e) => events.push(`${e.active ? "+" : "-"}${e.namespace.join("/")}`),
  );
  origin.publishNamespace(["other"], { serve: () => Promise.resolve() });
  origin.publishNamespace(["voice", "B"], { serve: () => Promise.resolve() });
  a.close();
  a.close();
  assertEquals(events, ["+voice/A", "+voice/B", "-voice/A"]);
});

Deno.test("a takeover-enabled publication is taken over by the same owner or an ownerless one, never by another owner, and never when either side did not allow it", async () => {
  const origin = new Origin();
  const info = { namespace: NS, name: "uplink" };
  const alice = { takeover: true, owner: "client:alice" };
  const first = origin.publishTrack(info, alice);
  using reader = await origin.subscribe(NS, "uplink");
  const refused = assertThrows(
    () => origin.publishTrack(info, { takeover: true, owner: "client:bob" }),
    TrackError,
  );
  assertEquals(refused.reason, "unauthorized");
  assertThrows(() => origin.publishTrack(info), TrackError, "already published");
  const second = origin.publishTrack(info, alice);
  assertEquals(first.done, true);
  first.close(); // the dead session ending later
  second.appendGroup(0).write({ id: 0, payload: Uint8Array.of(5) });
  assertEquals((await (await reader.nextGroup())?.readObject())?.payload[0], 5);
  assertEquals(origin.trackCount, 1);
  second.close();
  await reader.closed;
  assertEquals(origin.trackCount, 0);

  const local = origin.publishTrack({ namespace: NS, name: "downlink" }); // in process
  assertThrows(() => origin.publishTrack({ namespace: NS, name: "downlink" }, alice), TrackError);
  assertEquals(local.done, false);
});

Deno.test("a takeover PUBLISH_NAMESPACE moves the pulled tracks of the older publisher, and routes are not handed the track twice", async () => {
  const origin = new Origin();
  const served: string[] = [];
  const serving = new Map<string, TrackProducer>();
  const source = (name: string) => ({
    serve(track: TrackProducer) {
      served.push(name);
      serving.set(name, track);
      return Promise.resolve();
    },
  });
  const routed: TrackConsumer[] = [];
  using _route = origin.route("*", (t) => routed.push(t));
  origin.publishNamespace(NS, source("old"), { takeover: true, owner: "a" });
  using reader = await origin.subscribe(NS, "uplink");
  serving.get("old")!.setCapability("voice/opus");
  const refused = assertThrows(
    () => origin.publishNamespace(NS, source("other owner"), { takeover: true, owner: "b" }),
    TrackError,
  );
  assertEquals(refused.reason, "unauthorized");
  assertEquals(served, ["old"], "another owner's namespace does not take the track");
  origin.publishNamespace(NS, source("new"), { takeover: true, owner: "a" });
  assertEquals(served, ["old", "new"]);
  assertEquals(serving.get("old")!.done, true, "the old upstream is released");
  serving.get("new")!.appendGroup(0).write({ id: 0, payload: Uint8Array.of(3) });
  assertEquals((await (await reader.nextGroup())?.readObject())?.payload[0], 3);
  assertEquals(routed.length, 1, "the route keeps its one consumer");
});

Deno.test("a same-owner PUBLISH of a track pulled from an older namespace publisher takes it over: the consumer reads the pushed groups and the upstream is released", async () => {
  const origin = new Origin();
  let upstream: TrackProducer | undefined;
  origin.publishNamespace(NS, {
    serve(track) {
      upstream = track;
      return Promise.resolve();
    },
  }, { takeover: true, owner: "a" });
  using reader = await origin.subscribe(NS, "uplink");
  upstream!.appendGroup(3).close();
  assertEquals((await reader.nextGroup())?.id, 3);
  assertThrows(
    () => origin.publishTrack({ namespace: NS, name: "uplink" }, { takeover: true, owner: "b" }),
    TrackError,
  );
  const pushed = origin.publishTrack({ namespace: NS, name: "uplink" }, {
    takeover: true,
    owner: "a",
  });
  assertEquals(upstream!.done, true, "the pulled upstream is released");
  pushed.appendGroup(0).write({ id: 0, payload: Uint8Array.of(8) });
  const next = await reader.nextGroup();
  assertEquals(next?.id, 4);
  assertEquals((await next?.readObject())?.payload[0], 8);
  reader.close();
  assertEquals(pushed.done, false, "a pushed track stays without consumers");
});

Deno.test("a subscriber waiting on an upstream that never answers is served by the publisher that takes the namespace over meanwhile", async () => {
  const origin = new Origin();
  const refuse = Promise.withResolvers<void>();
  origin.publishNamespace(NS, { serve: () => refuse.promise }, { takeover: true, owner: "a" });
  const pending = origin.subscribe(NS, "uplink");
  let upstream: TrackProducer | undefined;
  origin.publishNamespace(NS, {
    serve(track) {
      upstream = track;
      return Promise.resolve();
    },
  }, { takeover: true, owner: "a" });
  refuse.reject(new TrackError("timeout", "the dead session never answered"));
  using reader = await pending;
  upstream!.appendGroup(0).write({ id: 0, payload: Uint8Array.of(1) });
  assertEquals((await (await reader.nextGroup())?.readObject())?.payload[0], 1);
});
