/**
 * Cluster costs (issue 13), in one run so the rows compare under the same load:
 *
 * 1. Store operations and Redis round trips per call: a `CallService` in this process on a
 *    counting wrapper around the store (Deno KV, then Redis), each call registered-client
 *    originate → ringing → answer → hangup; Redis' own `INFO commandstats` gives the commands.
 * 2. originate/s over HTTP against real server processes: 1 node on KV, then 1, 2 and 3 nodes
 *    on one Redis (requests spread round-robin; per node = total / nodes), N requests, C in
 *    flight; the load average after each row.
 *
 * `deno run -A --unstable-net --unstable-kv bench/cluster_bench.ts [calls] [requests] [concurrency]`
 *
 * @module
 */
import { Redis } from "ioredis";
import { KvCallStore } from "../src/calls/kv_store.ts";
import { RedisCallStore } from "../src/calls/redis_store.ts";
import type { CallStore } from "../src/calls/store.ts";
import { CallService } from "../src/calls/service.ts";
import { Origin } from "../src/relay/model/origin.ts";
import { createLogger } from "../src/log/mod.ts";
import { startRedis } from "../tests/_lib/redis.ts";
import { CLUSTER_SECRET, clusterToken, startNode } from "../tests/cluster/_cluster.ts";
import { spawnServer } from "../tests/_lib/server_process.ts";

const CALLS = Number(Deno.args[0] ?? 200);
const REQUESTS = Number(Deno.args[1] ?? 600);
const CONCURRENCY = Number(Deno.args[2] ?? 24);
const log = createLogger({ level: "error" });

/** Counts every store method call by name. */
function counting(store: CallStore): { store: CallStore; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== "function" || typeof key !== "string") return value;
      return (...args: unknown[]) => {
        counts.set(key, (counts.get(key) ?? 0) + 1);
        return value.apply(target, args);
      };
    },
  });
  return { store: proxy, counts };
}

async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const text = await redis.info("commandstats");
  const stats = new Map<string, number>();
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    stats.set(match[1], Number(match[2]));
  }
  return stats;
}

async function lifecycles(
  raw: CallStore,
  warmed: () => Promise<void> = () => Promise.resolve(),
): Promise<{ perCall: string; msPerCall: number }> {
  const { store, counts } = counting(raw);
  const calls = new CallService({ store, origin: new Origin(), log, ringTimeoutMs: 120_000 });
  await calls.start();
  await calls.registerClient("alice");
  const one = async () => {
    const ringing = Promise.withResolvers<void>();
    const call = await calls.originate({ from: "+14155550100", to: "client:alice" });
    const off = calls.events.onCall(call.sid, (event) => {
      if (event.type === "status" && event.call.status === "ringing") ringing.resolve();
    });
    if ((await calls.get(call.sid)).status === "ringing") ringing.resolve();
    await ringing.promise;
    off();
    await calls.answer(call.sid);
    await calls.hangup(call.sid);
  };
  for (let i = 0; i < 20; i++) await one();
  await warmed();
  counts.clear();
  const start = performance.now();
  for (let i = 0; i < CALLS; i++) await one();
  const msPerCall = (performance.now() - start) / CALLS;
  await calls.close();
  const perCall = [...counts].map(([k, v]) => `${k} ${(v / CALLS).toFixed(2)}`).join(", ");
  return { perCall, msPerCall };
}

async function originateRate(
  urls: string[],
  token: string,
): Promise<{ rps: number; p50: number; p99: number }> {
  const post = (i: number) =>
    fetch(`${urls[i % urls.length]}/v1/calls`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "idempotency-key": crypto.randomUUID(),
      },
      body: JSON.stringify({ from: "+14155550100", to: "client:alice" }),
    });
  for (let i = 0; i < 60; i++) await (await post(i)).arrayBuffer();
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) {
      const i = next++;
      const t0 = performance.now();
      const response = await post(i);
      await response.arrayBuffer();
      if (response.status !== 201) throw new Error(`HTTP ${response.status}`);
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { rps: REQUESTS / seconds, p50: q(0.5), p99: q(0.99) };
}

console.log(
  `uptime: ${new TextDecoder().decode((await new Deno.Command("uptime").output()).stdout).trim()}`,
);

// 1. Store operations per call.
{
  const dir = await Deno.makeTempDir();
  const kv = await KvCallStore.open(`${dir}/calls.kv`);
  const k = await lifecycles(kv);
  kv.close();
  await Deno.remove(dir, { recursive: true });
  console.log(`KV    store ops per call: ${k.perCall}; ${k.msPerCall.toFixed(2)} ms per call`);
  await using redis = await startRedis();
  const admin = new Redis(redis.url);
  const store = await RedisCallStore.connect({ url: redis.url, nodeId: "bench" });
  let before = new Map<string, number>();
  const r = await lifecycles(store, async () => void (before = await commandStats(admin)));
  const after = await commandStats(admin);
  store.close();
  const commands = [...after].map(([name, n]) => [name, n - (before.get(name) ?? 0)] as const)
    .filter(([name, n]) => n > 0 && name !== "info");
  const total = commands.reduce((sum, [, n]) => sum + n, 0);
  console.log(`Redis store ops per call: ${r.perCall}; ${r.msPerCall.toFixed(2)} ms per call`);
  // Each RedisCallStore method is one round trip (a script, HMGET or GET); inside a script
  // every redis.call is counted by commandstats too.
  console.log(
    `Redis commands per call: ${(total / CALLS).toFixed(2)} (${
      commands.map(([name, n]) => `${name} ${(n / CALLS).toFixed(2)}`).join(", ")
    })`,
  );
  admin.disconnect();
}

// 2. originate/s over HTTP.
const token = await clusterToken();
async function register(url: string) {
  const response = await fetch(`${url}/v1/clients/alice/register`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "idempotency-key": crypto.randomUUID() },
  });
  await response.arrayBuffer();
}
{
  const dataDir = await Deno.makeTempDir();
  await using kvNode = await spawnServer({
    dataDir,
    env: { CLUTCHCALL_AUTH_HS256_SECRET: CLUSTER_SECRET, CLUTCHCALL_RING_TIMEOUT_MS: "600000" },
  });
  await register(kvNode.listening.http);
  const result = await originateRate([kvNode.listening.http], token);
  console.log(
    `originate 1 node KV:      ${result.rps.toFixed(0)}/s p50 ${result.p50.toFixed(1)} ms p99 ${
      result.p99.toFixed(1)
    } ms`,
  );
}
for (const nodes of [1, 2, 3]) {
  await using redis = await startRedis();
  const started = [];
  for (let i = 0; i < nodes; i++) {
    started.push(
      await startNode(redis, `bench-${i}`, {
        env: { CLUTCHCALL_RING_TIMEOUT_MS: "600000" },
      }),
    );
  }
  await register(started[0].http);
  const result = await originateRate(started.map((n) => n.http), token);
  console.log(
    `originate ${nodes} node(s) Redis: ${result.rps.toFixed(0)}/s (${
      (result.rps / nodes).toFixed(0)
    }/s per node) p50 ${result.p50.toFixed(1)} ms p99 ${result.p99.toFixed(1)} ms; load ${
      (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ")
    }`,
  );
  for (const node of started) await node[Symbol.asyncDispose]();
}
console.log(
  `uptime: ${new TextDecoder().decode((await new Deno.Command("uptime").output()).stdout).trim()}`,
);
