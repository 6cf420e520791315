/**
 * Relay shards in cluster mode: two real server processes on one real Redis, node A with
 * `relay.shards: 2`. A call placed on A's Worker shard has its uplink PUBLISHed there (at the
 * URL A's placement API gives); a subscriber on node B reads it over the cascade.
 *
 * @module
 */
import { assertEquals, assertNotEquals } from "@std/assert";
import { requireOrSkip } from "../../_lib/env.ts";
import { hasRedis, startRedis } from "../../_lib/redis.ts";
import { clusterToken, sharedCertificate, startNode } from "../../cluster/_cluster.ts";
import { MoqClient } from "../../../src/relay/client.ts";
import type { TrackConsumer } from "../../../src/relay/model/mod.ts";

const available = hasRedis();
if (!available) requireOrSkip(false, "redis-server is not installed: the test skips");

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads `count` payloads from `track` (bounded: 30 s). */
async function readTexts(track: TrackConsumer, count: number): Promise<string[]> {
  const texts: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${texts.length} of ${count} objects in 30 s`)),
      30_000,
    );
  });
  const reading = (async () => {
    while (texts.length < count) {
      const group = await track.nextGroup();
      if (!group) throw new Error(`The track ended after ${texts.length} objects`);
      for (let o; texts.length < count && (o = await group.readObject());) {
        texts.push(decoder.decode(o.payload));
      }
    }
    return texts;
  })();
  try {
    return await Promise.race([reading, expired]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test({
  name:
    "cluster, node A with relay.shards=2: an uplink published on A's Worker shard for a call placed there is read by a subscriber on node B",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using redis = await startRedis();
    await using tls = await sharedCertificate();
    const { cert, file } = tls;
    await using a = await startNode(redis, "node-a", { file: { ...file, relay: { shards: 2 } } });
    await using b = await startNode(redis, "node-b", { file });
    // least_loaded: this sid takes A's shard 0, so the call below goes to A's Worker shard.
    const first = await (await a.fetch("/v1/relay/placement/CAfirstOnShard0")).json();
    assertEquals(first.shard, 0);
    await a.voice.clients.add("gina");
    const call = await a.voice.calls.originate({ from: "+14155550100", to: "client:gina" });
    const placed = await (await a.fetch(`/v1/relay/placement/${call.sid}`)).json();
    assertEquals(placed.shard, 1, "the call is on A's Worker shard");
    const mainPort = Number(new URL(a.process.listening.moq).port);
    assertNotEquals(Number(new URL(placed.url).port), mainPort, "the Worker shard's own port");
    const token = await clusterToken();
    await using publisher = await MoqClient.connect({
      hostname: "127.0.0.1",
      port: Number(new URL(placed.url).port),
      caCerts: [cert.certPem],
      token,
    });
    const namespace = ["voice", call.sid];
    const uplink = await publisher.publish({ namespace, name: "uplink", capability: "voice/opus" });
    await using subscriber = await tls.connect(b);
    const reader = await subscriber.subscribe(namespace, "uplink");
    // One group at a time, each read before the next is written (a subscriber starts at the
    // newest group).
    for (let g = 0; g < 3; g++) {
      const group = uplink.appendGroup();
      const sent = [0, 1, 2].map((o) => `g${g}o${o}`);
      sent.forEach((text, o) => group.write({ id: o, payload: encoder.encode(text) }));
      group.close();
      assertEquals(await readTexts(reader, sent.length), sent);
    }
    // The path: A's Worker shard → A's main relay (one pulled track, each object counted once
    // as it crossed) → the cascade to B.
    const shards = (await (await a.fetch("/v1/relay/shards")).json()).shards;
    assertEquals(shards[0].cross.pulledTracks, 1, JSON.stringify(shards));
    assertEquals(shards[0].cross.objectsIn, 9, JSON.stringify(shards));
    assertEquals(shards[1].cross.pushedTracks, 0, "the publisher was on the owning shard");
    reader.close();
    uplink.close();
  },
});
