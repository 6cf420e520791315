/**
 * Calls control plane costs, all in one process (one JS thread = one core): the server's
 * HTTP API, a bare Hono handler for the baseline, and the load generator.
 *
 * `deno run -A --unstable-net --unstable-kv bench/calls_bench.ts [requests] [concurrency]`
 *
 * @module
 */
import { Hono } from "hono";
import { loadConfig } from "../src/server/config.ts";
import { createLogger } from "../src/log/mod.ts";
import { VoiceServer } from "../src/server/server.ts";
import { KvCallStore } from "../src/calls/kv_store.ts";
import { advanceCall, createCall, newSid } from "../src/calls/call.ts";

const N = Number(Deno.args[0] ?? 3000);
const CONCURRENCY = Number(Deno.args[1] ?? 16);

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

async function load(make: (i: number) => Promise<Response>): Promise<Result> {
  // Warm-up.
  for (let i = 0; i < 200; i++) await (await make(i)).arrayBuffer();
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < N) {
      const i = next++;
      const t0 = performance.now();
      const response = await make(i);
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { rps: N / seconds, p50: q(0.5), p99: q(0.99) };
}

const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-calls-bench-" });
const config = await loadConfig(
  ["--http-port", "0", "--moq-port", "0", "--data-dir", dataDir, "--log-level", "error"],
  {},
);
const server = await VoiceServer.start(config, createLogger({ level: "error" }));
const auth = { authorization: `Bearer ${server.devToken}` };

const sample = createCall({
  sid: newSid(),
  direction: "outbound",
  from: "+14155550100",
  to: "client:alice",
  capabilities: ["voice/opus"],
});
const bare = new Hono();
bare.get("/v1/calls/:sid", (c) => c.json({ ...sample, sid: c.req.param("sid") }));
bare.post("/v1/calls", async (c) => c.json({ ...sample, ...(await c.req.json()) }, 201));
const bareServer = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, bare.fetch);
const bareUrl = `http://127.0.0.1:${bareServer.addr.port}`;

const body = JSON.stringify({ from: "+14155550100", to: "+442071838750" });
const post = (url: string, key?: string) =>
  fetch(`${url}/v1/calls`, {
    method: "POST",
    body,
    headers: {
      ...auth,
      "content-type": "application/json",
      ...(key ? { "idempotency-key": key } : {}),
    },
  });

const results: Record<string, Result> = {};
results["bare Hono GET"] = await load(() => fetch(`${bareUrl}/v1/calls/CA1`));
results["bare Hono POST"] = await load(() => post(bareUrl));
const originate = await load((i) => post(server.httpUrl, `bench-${i}-${Math.random()}`));
results["originate (POST /v1/calls + Idempotency-Key)"] = originate;
results["originate (POST /v1/calls, no key)"] = await load(() => post(server.httpUrl));
const { calls } = await (await fetch(`${server.httpUrl}/v1/calls?limit=100`, { headers: auth }))
  .json();
results["get (GET /v1/calls/{sid})"] = await load((i) =>
  fetch(`${server.httpUrl}/v1/calls/${calls[i % calls.length].sid}`, { headers: auth })
);
results["list (GET /v1/calls?limit=20)"] = await load(() =>
  fetch(`${server.httpUrl}/v1/calls?limit=20`, { headers: auth })
);

console.log(`\n${N} requests per row, ${CONCURRENCY} in flight, one process (one core)\n`);
console.log("| case | req/s | p50 ms | p99 ms | req/s vs bare Hono |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const [name, r] of Object.entries(results)) {
  const base = name.includes("GET") || name.startsWith("get") || name.startsWith("list")
    ? results["bare Hono GET"]
    : results["bare Hono POST"];
  console.log(
    `| ${name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${
      (r.rps / base.rps).toFixed(2)
    } |`,
  );
}

await server.close(50);
await bareServer.shutdown();

// The store alone: a whole call lifecycle (create, ringing, in_progress, completed).
const store = await KvCallStore.open(`${dataDir}/store-bench.kv`);
const M = 2000;
const t0 = performance.now();
for (let i = 0; i < M; i++) {
  let call = createCall({
    sid: newSid(),
    direction: "outbound",
    from: "+14155550100",
    to: "client:alice",
    capabilities: ["voice/opus"],
  });
  let r = await store.putCall(call, null, {
    key: `-:${call.sid}`,
    fingerprint: "x".repeat(64),
    status: 201,
    body: call,
    createdAt: call.createdAt,
  });
  for (const [to, reason] of [["ringing"], ["in_progress"], ["completed", "hangup"]] as const) {
    if (!r.ok) throw new Error("conflict");
    call = advanceCall(call, to, reason);
    r = await store.putCall(call, r.version);
  }
}
const perCall = (performance.now() - t0) / M;
const t1 = performance.now();
for (let i = 0; i < M; i++) await store.getCall(newSid());
const perGet = (performance.now() - t1) / M;
store.close();
const bytes = (await Deno.stat(`${dataDir}/store-bench.kv`)).size;
console.log(
  `\nKV store: ${M} call lifecycles (4 atomic writes each, one with an idempotency record)`,
);
console.log(
  `  ${perCall.toFixed(3)} ms per call (${(perCall / 4 * 1000).toFixed(0)} µs per write)`,
);
console.log(`  ${(perGet * 1000).toFixed(0)} µs per get`);
console.log(`  ${(bytes / M / 1024).toFixed(2)} KiB of calls.kv per call (file ${bytes} bytes)`);
await Deno.remove(dataDir, { recursive: true });
