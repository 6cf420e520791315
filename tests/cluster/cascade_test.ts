import { assertEquals } from "@std/assert";
import { Redis } from "ioredis";
import { requireOrSkip } from "../_lib/env.ts";
import { hasRedis, startRedis } from "../_lib/redis.ts";
import { clusterToken, sharedCertificate, startNode } from "./_cluster.ts";
import { MoqClient } from "../../src/relay/client.ts";
import type { TrackConsumer, TrackProducer } from "../../src/relay/model/track.ts";

const available = hasRedis();
if (!available) requireOrSkip(false, "redis-server is not installed: the cascade tests skip");

/** Reads `count` objects' payloads from `track`, group by group (bounded: 30 s). */
async function read(track: TrackConsumer, count: number): Promise<string[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("No objects within 30 s")), 30_000);
  });
  try {
    return await Promise.race([readAll(track, count), expired]);
  } finally {
    clearTimeout(timer);
  }
}

async function readAll(track: TrackConsumer, count: number): Promise<string[]> {
  const payloads: string[] = [];
  while (payloads.length < count) {
    const group = await track.nextGroup();
    if (!group) throw new Error(`The track ended after ${payloads.length} objects`);
    for (;;) {
      const object = await group.readObject();
      if (!object) break;
      payloads.push(new TextDecoder().decode(object.payload));
    }
  }
  return payloads;
}

Deno.test({
  name:
    "a namespace published on node A is announced to B; B's subscribers share one upstream subscription to A",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using redis = await startRedis();
    // The nodes share one certificate (as a cluster behind one name would), so each trusts the
    // other's relay; tokens come from the shared secret.
    await using tls = await sharedCertificate();
    const { cert, file } = tls;
    await using a = await startNode(redis, "node-a", { file });
    await using b = await startNode(redis, "node-b", { file });
    const token = await clusterToken();
    const connect = (node: { process: { listening: { moq: string } } }) =>
      MoqClient.connect({
        hostname: "127.0.0.1",
        port: Number(new URL(node.process.listening.moq).port),
        caCerts: [cert.certPem],
        token,
      });
    await using publisher = await connect(a);
    const track = await publisher.publishNamespace(["demo", "room1"]);
    const audio = track("audio", "audio/opus");
    // B's subscribers wait (the origin's bounded wait) until the announcement reached B.
    await using first = await connect(b);
    await using second = await connect(b);
    const [s1, s2] = await Promise.all([
      first.subscribe(["demo", "room1"], "audio"),
      second.subscribe(["demo", "room1"], "audio"),
    ]);
    // One group at a time, each read by both before the next is written: the relay starts a
    // subscriber at the newest group, so a burst of groups may legitimately skip older ones.
    for (let g = 0; g < 5; g++) {
      const group = audio.appendGroup();
      const sent = [0, 1, 2].map((o) => `g${g}o${o}`);
      sent.forEach((text, o) => group.write({ id: o, payload: new TextEncoder().encode(text) }));
      group.close();
      const [r1, r2] = await Promise.all([read(s1, sent.length), read(s2, sent.length)]);
      assertEquals(r1, sent);
      assertEquals(r2, sent);
    }
    // The publisher was subscribed once (by A), for two subscribers on B.
    assertEquals(audio.consumers, 1);
    // A sees the publisher and ONE session from B (two subscribers on B, one cascade).
    const stats = await (await a.fetch("/v1/relay/stats")).json();
    assertEquals(stats.sessions, 2);
    // The namespace → node map is in Redis; withdrawing the namespace removes it.
    const admin = new Redis(redis.url);
    try {
      assertEquals(await admin.hgetall("clutchcall:namespaces"), {
        [JSON.stringify(["demo", "room1"])]: "node-a",
      });
      s1.close();
      s2.close();
      publisher.close();
      await publisher.closed;
      for (
        let attempt = 0;
        Object.keys(await admin.hgetall("clutchcall:namespaces")).length;
        attempt++
      ) {
        if (attempt > 400) throw new Error("The namespace was never withdrawn");
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } finally {
      admin.disconnect();
    }
  },
});

Deno.test({
  name: "a node shutting down sends its MoQT clients GOAWAY to another live node",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using redis = await startRedis();
    await using tls = await sharedCertificate();
    const { cert, file } = tls;
    await using a = await startNode(redis, "node-a", { file });
    await using b = await startNode(redis, "node-b", { file });
    const token = await clusterToken();
    const client = await MoqClient.connect({
      hostname: "127.0.0.1",
      port: Number(new URL(a.process.listening.moq).port),
      caCerts: [cert.certPem],
      token,
    });
    a.process.child.kill("SIGTERM");
    // The session ends after GOAWAY's grace period; by then GOAWAY has arrived.
    await client.closed;
    assertEquals(client.session.goawayUri, b.process.listening.moq);
    // The client moves: the named node takes it.
    const moved = new URL(client.session.goawayUri!);
    await using again = await MoqClient.connect({
      hostname: moved.hostname,
      port: Number(moved.port),
      caCerts: [cert.certPem],
      token,
    });
    assertEquals(again.session.state, "established");
  },
});

Deno.test({
  name:
    "a subscription on B to a track not yet announced, in a namespace with other nodes' tracks, waits for its announcement",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using redis = await startRedis();
    await using tls = await sharedCertificate();
    await using a = await startNode(redis, "node-a", { file: tls.file });
    await using b = await startNode(redis, "node-b", { file: tls.file });
    // Two tracks published whole on A, one after the other (as a call's legs appear).
    await using publisher = await tls.connect(a);
    const first = await publisher.publish({
      namespace: ["demo", "legs"],
      name: "first",
      capability: "audio/opus",
    });
    await using subscriber = await tls.connect(b);
    const early = await subscriber.subscribe(["demo", "legs"], "first");
    const once = (track: TrackProducer, text: string) => {
      const group = track.appendGroup();
      group.write({ id: 0, payload: new TextEncoder().encode(text) });
      group.close();
    };
    once(first, "one");
    assertEquals(await read(early, 1), ["one"]); // B serves the namespace's remote tracks
    // "second" is not announced yet: the subscription waits on B for its announcement.
    const late = subscriber.subscribe(["demo", "legs"], "second");
    let failed: unknown;
    late.catch((error) => failed = error);
    for (let attempt = 0;; attempt++) {
      if (failed) throw failed; // before: `not_found` at once
      const stats = await (await b.fetch("/v1/relay/stats")).json();
      if (stats.awaitingAnnouncements === 1) break;
      if (attempt > 400) throw new Error("B never waited for the announcement");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const second = await publisher.publish({
      namespace: ["demo", "legs"],
      name: "second",
      capability: "audio/opus",
    });
    const track = await late;
    once(second, "two");
    assertEquals(await read(track, 1), ["two"]);
    assertEquals((await (await b.fetch("/v1/relay/stats")).json()).awaitingAnnouncements, 0);
  },
});
