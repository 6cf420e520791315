import { assert, assertEquals, assertRejects } from "@std/assert";
import { RedisCallStore } from "../../src/calls/redis_store.ts";
import { advanceCall } from "../../src/calls/call.ts";
import { requireOrSkip } from "../_lib/env.ts";
import { hasRedis, startRedis } from "../_lib/redis.ts";
import { callAt, storeContract } from "./_store_contract.ts";
import { TranscriptLog } from "../../src/calls/transcripts.ts";

const available = hasRedis();
if (!available) requireOrSkip(false, "redis-server is not installed: the Redis store tests skip");

storeContract("Redis store", async () => {
  const redis = await startRedis();
  const store = await RedisCallStore.connect({ url: redis.url });
  return Object.assign(store, {
    async [Symbol.asyncDispose]() {
      store.close();
      await redis[Symbol.asyncDispose]();
    },
  });
}, !available);

Deno.test({
  name: "Redis store: two prefixes on one Redis are two stores",
  ignore: !available,
  fn: async () => {
    await using redis = await startRedis();
    await using a = await RedisCallStore.connect({ url: redis.url, prefix: "a:" });
    await using b = await RedisCallStore.connect({ url: redis.url, prefix: "b:" });
    assert((await a.putCall(callAt("CAa", 1000), null)).ok);
    assertEquals(await b.getCall("CAa"), undefined);
    assertEquals((await b.listCalls({}, 10)).calls, []);
  },
});

Deno.test({
  name:
    "Redis store: a restarted Redis keeps every acknowledged write; commands fail while it is down",
  ignore: !available,
  fn: async () => {
    await using redis = await startRedis();
    await using store = await RedisCallStore.connect({ url: redis.url });
    const record = { key: "-:k", fingerprint: "f", status: 201, body: {}, createdAt: "" };
    assert((await store.putCall(callAt("CAa", 1000), null, record)).ok);
    const found = (await store.getCall("CAa"))!;
    assert((await store.putCall(advanceCall(found.call, "ringing"), found.version)).ok);
    await redis.kill();
    // Down: a write is refused at once (the calls service retries it), never queued blindly.
    await assertRejects(() => store.probeWrite());
    await redis.start();
    // Back (the client reconnects by itself): the calls, the index and the record survived.
    const after = await eventually(() => store.getCall("CAa"));
    assertEquals(after?.call.status, "ringing");
    assertEquals(after?.version, String(Number(found.version) + 1));
    assertEquals(await store.getIdempotency("-:k"), record);
    assertEquals((await store.liveCalls()).map((c) => c.sid), ["CAa"]);
    // The scripts are loaded again after the restart (EVALSHA falls back to EVAL).
    assert((await store.putCall(callAt("CAb", 2000), null)).ok);
    assertEquals((await store.listCalls({}, 10)).calls.map((c) => c.sid), ["CAb", "CAa"]);
  },
});

Deno.test({
  name: "Redis store: connecting to no Redis fails with a reason",
  ignore: !available,
  fn: async () => {
    const redis = await startRedis();
    const url = redis.url;
    await redis[Symbol.asyncDispose]();
    await assertRejects(() => RedisCallStore.connect({ url, connectTimeoutMs: 2000 }));
  },
});

/** Retries `op` until it stops failing (the client reconnecting): the signal is success. */
async function eventually<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await op();
    } catch (error) {
      if (attempt > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

Deno.test({
  name:
    "Redis store: in cluster mode the creating node owns a call until a terminal status frees it",
  ignore: !available,
  fn: async () => {
    await using redis = await startRedis();
    await using a = await RedisCallStore.connect({ url: redis.url, nodeId: "a" });
    await using b = await RedisCallStore.connect({ url: redis.url, nodeId: "b" });
    assert((await a.putCall(callAt("CAa", 1000), null)).ok);
    assert((await b.putCall(callAt("CAb", 2000), null)).ok);
    assertEquals(await b.ownerOf("CAa"), "a");
    // Each node reconciles only its own live calls after a restart.
    assertEquals((await a.liveCalls()).map((c) => c.sid), ["CAa"]);
    assertEquals((await b.liveCalls()).map((c) => c.sid), ["CAb"]);
    assertEquals((await b.callsOwnedBy("a")).map((c) => c.sid), ["CAa"]);
    // Another node ending a's call (as when a's lease expired) frees the sid.
    const found = (await b.getCall("CAa"))!;
    const ended = advanceCall(found.call, "failed", "node_lost");
    assert((await b.putCall(ended, found.version)).ok);
    assertEquals(await b.ownerOf("CAa"), undefined);
    assertEquals(await a.liveCalls(), []);
    assertEquals((await b.liveCalls()).map((c) => c.sid), ["CAb"]);
    // A later write to the ended call (a stale leg report) does not make a an owner again.
    const again = (await a.getCall("CAa"))!;
    assert((await a.putCall({ ...again.call }, again.version)).ok);
    assertEquals(await a.ownerOf("CAa"), undefined);
  },
});

Deno.test({
  name:
    "Redis store keeps transcripts like the KV store: in order, bounded in entries and text, across nodes",
  ignore: !available,
  fn: async () => {
    await using redis = await startRedis();
    await using store = await RedisCallStore.connect({ url: redis.url, nodeId: "a" });
    await using other = await RedisCallStore.connect({ url: redis.url, nodeId: "b" });
    const log = new TranscriptLog({ maxEntries: 3, maxChars: 12, store });
    assert(log.persistent);
    const final = (sid: string, text: string) => ({
      type: "transcript" as const,
      sid,
      at: "2026-01-01T00:00:00.000Z",
      track: "uplink" as const,
      kind: "final" as const,
      text,
      start: 10,
      end: 20,
    });
    assertEquals(await store.getTranscript("CA1"), { finals: [], truncated: false });
    // Not awaited one by one: appends to one call still land in order.
    await Promise.all([0, 1, 2, 3, 4].map((i) => log.add(final("CA1", `w${i}`))));
    // Another node reads what this one wrote.
    const seen = await new TranscriptLog({ store: other }).get("CA1");
    assertEquals(seen.finals.map((f) => f.text), ["w2", "w3", "w4"]);
    assertEquals(seen.truncated, true);
    // Text bound (UTF-16 length, as the KV store counts): "0123456789" goes for "abcdéf".
    await log.add(final("CA2", "0123456789"));
    await log.add(final("CA2", "abcdéf"));
    assertEquals((await log.get("CA2")).finals.map((f) => f.text), ["abcdéf"]);
    assertEquals((await log.get("CA2")).finals[0].start, 10);
  },
});
