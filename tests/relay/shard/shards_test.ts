/**
 * Relay shards on a real server (`relay.shards: 2`): a real Worker with its own UDP port,
 * real QUIC on loopback, a foreign `npm:@moq/net` client at the URL the placement API returns.
 *
 * @module
 */
import { Broadcast, Path, Time } from "@moq/net";
import { assert, assertEquals } from "@std/assert";
import { eventually, startServer } from "../../calls/_server.ts";
import { MoqClient } from "../../../src/relay/client.ts";
import type { TrackConsumer } from "../../../src/relay/model/mod.ts";
import type { CallEvent } from "../../../src/sdk/mod.ts";
import { connectMoqNet, quietDebug, tolerateMoqNetClosingBug } from "../../_lib/moq_net.ts";
import { relayTally } from "../../../src/metrics/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// @moq/net 0.3.4 opens a group stream from a promise nobody awaits when its connection closes
// under a publisher: only that rejection is ignored (see tests/_lib/moq_net.ts).
tolerateMoqNetClosingBug();

type Fixture = Awaited<ReturnType<typeof startServer>>;

async function placement(
  fx: Fixture,
  sid: string,
): Promise<{ sid: string; shard: number; url: string }> {
  const response = await fx.fetch(`/v1/relay/placement/${sid}`);
  assertEquals(response.status, 200);
  return await response.json();
}

async function relayStats(fx: Fixture): Promise<Record<string, number>> {
  return await (await fx.fetch("/v1/relay/stats")).json();
}

/** Reads `count` objects' payloads as text from one of our subscriptions. */
async function readTexts(track: TrackConsumer, count: number): Promise<string[]> {
  const texts: string[] = [];
  while (texts.length < count) {
    const group = await track.nextGroup();
    if (!group) break;
    for (let o; texts.length < count && (o = await group.readObject());) {
      texts.push(decoder.decode(o.payload));
    }
  }
  return texts;
}

function connectTo(fx: Fixture, port: number): Promise<MoqClient> {
  return MoqClient.connect({
    hostname: "127.0.0.1",
    port,
    caCerts: [fx.server.certificate.certPem],
    token: fx.token,
  });
}

Deno.test("shards=2: calls alternate between the main relay and the Worker shard, each URL names its shard's own UDP port", async () => {
  await using fx = await startServer({}, undefined, { relay: { shards: 2 } });
  const pool = fx.server.shards!;
  assertEquals(pool.count, 2);
  const a = await placement(fx, "CAshardA");
  const b = await placement(fx, "CAshardB");
  assertEquals([a.shard, b.shard], [0, 1]);
  assertEquals(a.url, fx.server.moqUrl);
  assertEquals(b.url, `https://127.0.0.1:${pool.port(1)}/moq`);
  assert(pool.port(1) !== fx.server.moqPort, "the Worker shard has a port of its own");
  assertEquals((await placement(fx, "CAshardB")).shard, 1, "placement is remembered");
  const voice = await fx.voice();
  assertEquals(await voice.calls.relay("CAshardB"), b);
  const shards = (await (await fx.fetch("/v1/relay/shards")).json()).shards;
  assertEquals(shards.map((s: { index: number; alive: boolean; calls: number }) => s.calls), [
    1,
    1,
  ]);
  assertEquals(shards.map((s: { alive: boolean }) => s.alive), [true, true]);
});

Deno.test("shards=2 with placement hash: a sid's shard is its FNV-1a hash modulo 2", async () => {
  await using fx = await startServer({}, undefined, {
    relay: { shards: 2, placement: "hash" },
  });
  const sids = ["CA1", "CA2", "CA3", "CA4", "CA5", "CA6"];
  const shards = [];
  for (const sid of sids) shards.push((await placement(fx, sid)).shard);
  const fnv = (text: string) => {
    let h = 2166136261n;
    for (const c of text) h = ((h ^ BigInt(c.charCodeAt(0))) * 16777619n) % 2n ** 32n;
    return Number(h % 2n);
  };
  assertEquals(shards, sids.map(fnv));
});

Deno.test("a @moq/net publisher on the Worker shard (the URL the API returns) reaches a subscriber on the main relay, each object counted once as it crosses", async () => {
  using _quiet = quietDebug();
  await using fx = await startServer({}, undefined, { relay: { shards: 2 } });
  await placement(fx, "CAfirst"); // shard 0
  const { shard, url } = await placement(fx, "CAcross");
  assertEquals(shard, 1);
  const conn = await connectMoqNet(`${url}?jwt=${fx.token}`, fx.server.certificate.sha256Hex);
  const broadcast = new Broadcast.Producer();
  const uplink = broadcast.createTrack("uplink");
  conn.publish(Path.from("voice/CAcross"), broadcast);
  // The subscriber is on shard 0, the wrong one: shard 0 pulls the track from shard 1.
  const subscriber = await connectTo(fx, fx.server.moqPort);
  const reader = await subscriber.subscribe(["voice", "CAcross"], "uplink");
  const pending = readTexts(reader, 20);
  for (let g = 0; g < 2; g++) {
    const group = uplink.appendGroup();
    for (let i = 0; i < 10; i++) {
      group.writeFrame({
        payload: encoder.encode(`g${g}f${i}`),
        timestamp: Time.Timestamp.fromMillis(1000 + i),
      });
    }
    group.close();
  }
  const texts = await pending;
  assertEquals(texts, Array.from({ length: 20 }, (_, k) => `g${Math.floor(k / 10)}f${k % 10}`));
  const stats = await relayStats(fx);
  assertEquals(stats.crossShardObjects, 20);
  assertEquals(stats.crossShardBytes, texts.reduce((n, t) => n + t.length, 0));
  const exposition = await (await fetch(`${fx.url}/metrics`)).text();
  assert(
    exposition.includes('clutchcall_relay_shard_crossings_total{unit="objects"} 20'),
    "the crossing is in /metrics",
  );
  const shards = (await (await fx.fetch("/v1/relay/shards")).json()).shards;
  assertEquals(shards[0].cross.pulledTracks, 1);
  assert(shards[1].sessions >= 2, "shard 1 holds the @moq/net session and shard 0's link");
  reader.close();
  subscriber.close();
  uplink.close();
  broadcast.close();
  conn.close();
  await conn.closed.catch(() => {});
});

Deno.test("a track an in-process leg publishes on the main thread for a call of the Worker shard is pushed there, counted out", async () => {
  await using fx = await startServer({}, undefined, { relay: { shards: 2 } });
  await placement(fx, "CAzero");
  assertEquals((await placement(fx, "CApush")).shard, 1);
  // A main-thread leg (as the SIP gateway or an agent does): publish in the main origin.
  const downlink = fx.server.relay.origin.publishTrack({
    namespace: ["voice", "CApush"],
    name: "downlink",
    capability: "voice/g711_ulaw",
  });
  const client = await connectTo(fx, fx.server.shards!.port(1));
  const reader = await client.subscribe(["voice", "CApush"], "downlink");
  assertEquals(reader.info.capability, "voice/g711_ulaw");
  const pending = readTexts(reader, 5);
  const group = downlink.appendGroup();
  for (let i = 0; i < 5; i++) group.write({ id: i, payload: encoder.encode(`d${i}`) });
  group.close();
  assertEquals(await pending, ["d0", "d1", "d2", "d3", "d4"]);
  const shards = (await (await fx.fetch("/v1/relay/shards")).json()).shards;
  assertEquals(shards[0].cross.pushedTracks, 1);
  assertEquals(shards[0].cross.objectsOut, 5);
  reader.close();
  downlink.close();
  client.close();
});

Deno.test("a Worker shard that crashes ends its calls shard_lost; the main relay's calls and the process go on", async () => {
  await using fx = await startServer({}, undefined, { relay: { shards: 2 } });
  const app = await fx.voice();
  const phone = await fx.voice();
  const rings: AbortController[] = [];
  for (const identity of ["alice", "bob"]) {
    const ringing = new AbortController();
    rings.push(ringing);
    const incoming = phone.clients.register(identity, { signal: ringing.signal })[
      Symbol.asyncIterator
    ]();
    incoming.next().catch(() => {});
    await eventually(
      async () => (await fx.fetch(`/v1/clients/${identity}`)).ok || undefined,
      5000,
      `registration of ${identity}`,
    );
  }
  const first = await app.calls.originate({ from: "+14155550100", to: "client:alice" });
  const second = await app.calls.originate({ from: "+14155550100", to: "client:bob" });
  assertEquals((await placement(fx, first.sid)).shard, 0);
  assertEquals((await placement(fx, second.sid)).shard, 1);
  // Bob answers on shard 1 (his uplink there): the crash must end the call shard_lost, not as
  // his connection being lost.
  const pool = fx.server.shards!;
  const bob = await connectTo(fx, pool.port(1));
  await bob.publish({ namespace: ["voice", second.sid], name: "uplink", capability: "voice/opus" });
  await eventually(
    async () => (await app.calls.get(second.sid)).status === "in_progress" || undefined,
    5000,
    "bob's answer",
  );
  const ended = (async () => {
    for await (const event of app.calls.events(second.sid) as AsyncIterable<CallEvent>) {
      if (event.type === "status" && event.call.status === "failed") return event.call;
    }
  })();
  pool.crash(1);
  const lost = await ended;
  assertEquals(lost?.endReason, "shard_lost");
  assert(!["completed", "failed", "no_answer"].includes((await app.calls.get(first.sid)).status));
  const shards = (await (await fx.fetch("/v1/relay/shards")).json()).shards;
  assertEquals(shards.map((s: { alive: boolean }) => s.alive), [true, false]);
  // New calls go to the shard alive.
  assertEquals((await placement(fx, "CAafter")).shard, 0);
  for (const ringing of rings) ringing.abort();
  bob.close();
});

Deno.test("shutdown closes every Worker shard: their sessions end and no Worker is left running", async () => {
  await using fx = await startServer({}, undefined, { relay: { shards: 3 } });
  const pool = fx.server.shards!;
  assertEquals(pool.running, 2);
  const clients = await Promise.all([1, 2].map((i) => connectTo(fx, pool.port(i))));
  await fx.server.close(50);
  // Each shard's session ended (GOAWAY, then closed by the shard): a hang here fails the test.
  await Promise.all(clients.map((client) => client.closed));
  assertEquals(pool.running, 0);
});

Deno.test("shards=1 (the default): no Workers, the placement API names the main relay", async () => {
  await using fx = await startServer();
  assertEquals(fx.server.shards, undefined);
  assertEquals(await placement(fx, "CAone"), { sid: "CAone", shard: 0, url: fx.server.moqUrl });
  assertEquals((await (await fx.fetch("/v1/relay/shards")).json()).shards, []);
  assertEquals(Object.keys(await relayStats(fx)).sort(), ["sessions", "tracks"]);
});

Deno.test("a PUBLISH on the wrong Worker shard is pushed on to the call's shard, where its subscriber reads it", async () => {
  await using fx = await startServer({}, undefined, { relay: { shards: 2 } });
  assertEquals((await placement(fx, "CAmain")).shard, 0);
  // The publisher ignores the placement: it publishes on shard 1; the subscriber is on shard 0.
  const publisher = await connectTo(fx, fx.server.shards!.port(1));
  const uplink = await publisher.publish({
    namespace: ["voice", "CAmain"],
    name: "uplink",
    capability: "voice/opus",
  });
  const subscriber = await connectTo(fx, fx.server.moqPort);
  const reader = await subscriber.subscribe(["voice", "CAmain"], "uplink");
  assertEquals(reader.info.capability, "voice/opus");
  const pending = readTexts(reader, 3);
  const group = uplink.appendGroup();
  for (let i = 0; i < 3; i++) group.write({ id: i, payload: encoder.encode(`u${i}`) });
  group.close();
  assertEquals(await pending, ["u0", "u1", "u2"]);
  const shards = (await (await fx.fetch("/v1/relay/shards")).json()).shards;
  assertEquals(shards[1].cross.pushedTracks, 1);
  assertEquals(shards[1].cross.objectsOut, 3);
  reader.close();
  uplink.close();
  publisher.close();
  subscriber.close();
});

Deno.test("a client leg on the Worker shard that owns its call answers it with its uplink there and hangs up by ending it", async () => {
  await using fx = await startServer({}, undefined, { relay: { shards: 2 } });
  const app = await fx.voice();
  const phone = await fx.voice();
  const ringing = new AbortController();
  const incoming = phone.clients.register("carol", { signal: ringing.signal })[
    Symbol.asyncIterator
  ]();
  const ring = incoming.next();
  await eventually(
    async () => (await fx.fetch("/v1/clients/carol")).ok || undefined,
    5000,
    "registration of carol",
  );
  assertEquals((await placement(fx, "CAfiller")).shard, 0);
  const call = await app.calls.originate({ from: "+14155550100", to: "client:carol" });
  const { shard } = await app.calls.relay(call.sid);
  assertEquals(shard, 1);
  await ring;
  const statuses: string[] = [];
  const watching = (async () => {
    for await (const event of app.calls.events(call.sid) as AsyncIterable<CallEvent>) {
      if (event.type !== "status") continue;
      statuses.push(event.call.status);
      if (event.call.status === "completed") return event.call;
    }
  })();
  // The client connects where the API says: shard 1, not the main relay.
  const leg = await connectTo(fx, fx.server.shards!.port(1));
  const uplink = await leg.publish({
    namespace: ["voice", call.sid],
    name: "uplink",
    capability: "voice/g711_ulaw",
  });
  await eventually(
    async () => (await app.calls.get(call.sid)).status === "in_progress" || undefined,
    5000,
    "in_progress",
  );
  uplink.close();
  const ended = await watching;
  assertEquals(ended?.endReason, "caller_hangup");
  assert(statuses.includes("in_progress"));
  ringing.abort();
  leg.close();
});

Deno.test("with a plugin enabled, a track of a Worker shard's call reaches the main thread's capability routes, counted as crossing", async () => {
  await using fx = await startServer({}, undefined, {
    relay: { shards: 2 },
    plugins: [{ module: "builtin:recorder" }],
  });
  assertEquals((await placement(fx, "CArouteA")).shard, 0);
  assertEquals((await placement(fx, "CArouteB")).shard, 1);
  // A route on the main origin, as every in-process plugin registers one.
  const routed = Promise.withResolvers<TrackConsumer>();
  using _route = fx.server.relay.origin.route("voice/*", (track) => {
    if (track.info.namespace[1] === "CArouteB") routed.resolve(track);
    else track.close();
  });
  const leg = await connectTo(fx, fx.server.shards!.port(1));
  const uplink = await leg.publish({
    namespace: ["voice", "CArouteB"],
    name: "uplink",
    capability: "voice/g711_ulaw",
  });
  const track = await routed.promise;
  assertEquals(track.info.capability, "voice/g711_ulaw");
  const pending = readTexts(track, 2);
  const group = uplink.appendGroup();
  for (let i = 0; i < 2; i++) group.write({ id: i, payload: encoder.encode(`r${i}`) });
  group.close();
  assertEquals(await pending, ["r0", "r1"]);
  assertEquals((await relayStats(fx)).crossShardObjects, 2);
  track.close();
  uplink.close();
  leg.close();
});

/** The value of an unlabelled counter in a Prometheus exposition. */
function counterValue(exposition: string, name: string): number {
  const line = exposition.split("\n").find((l) => l.startsWith(`${name} `));
  assert(line, `${name} is in /metrics`);
  return Number(line.slice(name.length + 1));
}

Deno.test("clutchcall_relay_objects_total counts what every shard forwarded: objects relayed only on the Worker shard are in it", async () => {
  await using fx = await startServer({}, undefined, { relay: { shards: 2 } });
  assertEquals((await placement(fx, "CAcountA")).shard, 0);
  assertEquals((await placement(fx, "CAcountB")).shard, 1);
  const before = counterValue(
    await (await fetch(`${fx.url}/metrics`)).text(),
    "clutchcall_relay_objects_total",
  );
  // This process's relay (shard 0) forwards nothing here; the test's in-process clients are
  // not relays and count nothing either.
  const ownBefore = relayTally.objects;
  // Publisher and subscriber both on shard 1, the call's: shard 0 forwards nothing.
  const port = fx.server.shards!.port(1);
  const publisher = await connectTo(fx, port);
  const subscriber = await connectTo(fx, port);
  const uplink = await publisher.publish({
    namespace: ["voice", "CAcountB"],
    name: "uplink",
    capability: "voice/opus",
  });
  const reader = await subscriber.subscribe(["voice", "CAcountB"], "uplink");
  const pending = readTexts(reader, 7);
  const group = uplink.appendGroup();
  for (let i = 0; i < 7; i++) group.write({ id: i, payload: encoder.encode(`c${i}`) });
  group.close();
  assertEquals((await pending).length, 7);
  const after = counterValue(
    await (await fetch(`${fx.url}/metrics`)).text(),
    "clutchcall_relay_objects_total",
  );
  assertEquals(relayTally.objects - ownBefore, 0, "a client's sends are not the relay's");
  assertEquals(after - before, 7, "the Worker shard's 7 forwarded objects are counted");
  const shards = (await (await fx.fetch("/v1/relay/shards")).json()).shards;
  assertEquals(shards[1].objects, 7);
  assertEquals(shards.map((s: { stale: boolean }) => s.stale), [false, false]);
  reader.close();
  uplink.close();
  publisher.close();
  subscriber.close();
});

Deno.test("a hung Worker shard does not hang /metrics or /v1/relay/shards: it is reported stale with its last counters, and fresh again once it runs", async () => {
  await using fx = await startServer({}, undefined, { relay: { shards: 2 } });
  const pool = fx.server.shards!;
  const first = (await (await fx.fetch("/v1/relay/shards")).json()).shards;
  assertEquals(first[1].stale, false);
  {
    using _hung = pool.hang(1);
    const metrics = await fetch(`${fx.url}/metrics`);
    assertEquals(metrics.status, 200);
    assert((await metrics.text()).includes("clutchcall_relay_objects_total"));
    const shards = (await (await fx.fetch("/v1/relay/shards")).json()).shards;
    assertEquals(shards.map((s: { stale: boolean }) => s.stale), [false, true]);
    assertEquals(shards[1].alive, true, "a hung shard is not a lost one");
    assertEquals(shards[1].objects, first[1].objects);
    assertEquals((await (await fx.fetch("/v1/relay/stats")).json()).shards, 2);
  }
  const shards = (await (await fx.fetch("/v1/relay/shards")).json()).shards;
  assertEquals(shards.map((s: { stale: boolean }) => s.stale), [false, false]);
});

Deno.test("a track pushed across shards is counted once in clutchcall_relay_objects_total: by the shard that forwards it to its subscriber, not by the pushing session", async () => {
  await using fx = await startServer({}, undefined, { relay: { shards: 2 } });
  await placement(fx, "CAonce0");
  assertEquals((await placement(fx, "CAonce1")).shard, 1);
  const metric = async () =>
    counterValue(await (await fetch(`${fx.url}/metrics`)).text(), "clutchcall_relay_objects_total");
  const before = await metric();
  const ownBefore = relayTally.objects;
  // A main-thread leg publishes in the main origin; the call is on shard 1, so the main thread
  // pushes it there through a MoqClient session (a client, not a relay).
  const downlink = fx.server.relay.origin.publishTrack({
    namespace: ["voice", "CAonce1"],
    name: "downlink",
    capability: "voice/g711_ulaw",
  });
  const client = await connectTo(fx, fx.server.shards!.port(1));
  const reader = await client.subscribe(["voice", "CAonce1"], "downlink");
  const pending = readTexts(reader, 6);
  const group = downlink.appendGroup();
  for (let i = 0; i < 6; i++) group.write({ id: i, payload: encoder.encode(`o${i}`) });
  group.close();
  assertEquals((await pending).length, 6);
  const shards = (await (await fx.fetch("/v1/relay/shards")).json()).shards;
  assertEquals(shards[0].cross.objectsOut, 6, "the 6 objects crossed once");
  assertEquals(relayTally.objects - ownBefore, 0, "shard 0 forwarded nothing to a subscriber");
  assertEquals(shards[1].objects, 6, "shard 1 forwarded them to its subscriber");
  assertEquals(await metric() - before, 6, "each delivered object counted once");
  reader.close();
  downlink.close();
  client.close();
});

Deno.test("a PUBLISH_NAMESPACE publisher on the wrong Worker shard is announced on the call's shard, where its subscriber reads it", async () => {
  await using fx = await startServer({}, undefined, { relay: { shards: 2 } });
  assertEquals((await placement(fx, "CAnsmain")).shard, 0);
  // The publisher ignores the placement: it announces the call's namespace on shard 1 and
  // serves its tracks on demand; the subscriber is on shard 0, the call's.
  const publisher = await connectTo(fx, fx.server.shards!.port(1));
  const track = await publisher.publishNamespace(["voice", "CAnsmain"]);
  const uplink = track("uplink", "voice/opus");
  const subscriber = await connectTo(fx, fx.server.moqPort);
  const reader = await subscriber.subscribe(["voice", "CAnsmain"], "uplink");
  assertEquals(reader.info.capability, "voice/opus");
  const pending = readTexts(reader, 4);
  const group = uplink.appendGroup();
  for (let i = 0; i < 4; i++) group.write({ id: i, payload: encoder.encode(`n${i}`) });
  group.close();
  assertEquals(await pending, ["n0", "n1", "n2", "n3"]);
  const shards = (await (await fx.fetch("/v1/relay/shards")).json()).shards;
  assertEquals(shards[1].cross.objectsOut, 4, "served across from shard 1, counted out");
  assertEquals(shards[0].cross.pulledTracks, 0, "shard 0 pulled nothing: it was announced there");
  reader.close();
  uplink.close();
  publisher.close();
  subscriber.close();
});

Deno.test("a @moq/net publisher on the main relay for a call of the Worker shard is announced there, where its subscriber reads it", async () => {
  using _quiet = quietDebug();
  await using fx = await startServer({}, undefined, { relay: { shards: 2 } });
  await placement(fx, "CAnsfirst"); // shard 0
  assertEquals((await placement(fx, "CAnsworker")).shard, 1);
  // The main relay's URL, not the call's shard's: @moq/net announces the namespace there.
  const conn = await connectMoqNet(
    `${fx.server.moqUrl}?jwt=${fx.token}`,
    fx.server.certificate.sha256Hex,
  );
  const broadcast = new Broadcast.Producer();
  const uplink = broadcast.createTrack("uplink");
  conn.publish(Path.from("voice/CAnsworker"), broadcast);
  const subscriber = await connectTo(fx, fx.server.shards!.port(1));
  const reader = await subscriber.subscribe(["voice", "CAnsworker"], "uplink");
  const pending = readTexts(reader, 5);
  const group = uplink.appendGroup();
  for (let i = 0; i < 5; i++) {
    group.writeFrame({
      payload: encoder.encode(`w${i}`),
      timestamp: Time.Timestamp.fromMillis(2000 + i),
    });
  }
  group.close();
  assertEquals(await pending, ["w0", "w1", "w2", "w3", "w4"]);
  const shards = (await (await fx.fetch("/v1/relay/shards")).json()).shards;
  assertEquals(shards[0].cross.objectsOut, 5, "served across from the main relay, counted out");
  assertEquals(shards[1].cross.pulledTracks, 0, "shard 1 pulled nothing: it was announced there");
  reader.close();
  subscriber.close();
  uplink.close();
  broadcast.close();
  conn.close();
  await conn.closed.catch(() => {});
});
