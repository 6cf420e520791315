/**
 * Added latency of one relay cascade hop (issue 13): a publisher on node A (real server
 * processes on one Redis), one subscriber on A and one on B (served through B's upstream
 * subscription to A), for a namespace (PUBLISH_NAMESPACE) and then for a track published whole
 * (PUBLISH, as a call's leg publishes `voice/<sid>/uplink`). One 160-byte object per group every 20 ms, each carrying its send time;
 * both subscribers run in this process, so both latencies use one clock. Same-run ratio.
 *
 * `deno run -A --unstable-net --unstable-kv bench/cascade_bench.ts [objects]`
 *
 * @module
 */
import { startRedis } from "../tests/_lib/redis.ts";
import { clusterToken, startNode } from "../tests/cluster/_cluster.ts";
import { loadOrCreateDevCertificate } from "../src/server/certificate.ts";
import { MoqClient } from "../src/relay/client.ts";
import type { TrackConsumer, TrackProducer } from "../src/relay/model/track.ts";

const N = Number(Deno.args[0] ?? 500);
const uptime = async () =>
  new TextDecoder().decode((await new Deno.Command("uptime").output()).stdout).trim();
console.log(`uptime: ${await uptime()}`);

await using redis = await startRedis();
const tls = await Deno.makeTempDir();
const cert = await loadOrCreateDevCertificate({ dataDir: tls, hosts: ["127.0.0.1"] });
const file = { cert: cert.certPath, key: cert.keyPath };
await using a = await startNode(redis, "bench-a", { file });
await using b = await startNode(redis, "bench-b", { file });
const token = await clusterToken();
const connect = (node: typeof a) =>
  MoqClient.connect({
    hostname: "127.0.0.1",
    port: Number(new URL(node.process.listening.moq).port),
    caCerts: [cert.certPem],
    token,
  });
await using publisher = await connect(a);
await using onA = await connect(a);
await using onB = await connect(b);

async function collect(consumer: TrackConsumer, into: number[]): Promise<void> {
  while (into.length < N) {
    const group = await consumer.nextGroup();
    if (!group) return;
    const object = await group.readObject();
    if (!object) continue;
    const sent = new DataView(object.payload.buffer, object.payload.byteOffset).getFloat64(0);
    into.push(performance.now() - sent);
  }
}
const q = (values: number[], p: number) => {
  const sorted = values.slice(25).sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
};

/** One publication on A read directly on A and through B; prints both and the hop's cost. */
async function measure(
  label: string,
  track: TrackProducer,
  namespace: string[],
  name: string,
): Promise<void> {
  // B learns of the publication through Redis: its subscribe waits (bounded) until then.
  const direct = await onA.subscribe(namespace, name);
  const cascaded = await onB.subscribe(namespace, name);
  const directMs: number[] = [];
  const cascadedMs: number[] = [];
  const done = Promise.all([collect(direct, directMs), collect(cascaded, cascadedMs)]);
  // Warm-up is included in neither: the first 25 objects are dropped by q().
  for (let i = 0; i < N + 25; i++) {
    const payload = new Uint8Array(160);
    new DataView(payload.buffer).setFloat64(0, performance.now());
    const group = track.appendGroup();
    group.write({ id: 0, payload });
    group.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 2000))]);
  for (
    const [path, values] of [["direct (A)", directMs], ["cascaded (B via A)", cascadedMs]] as const
  ) {
    console.log(
      `${label} ${path}: received ${values.length}/${N + 25}, p50 ${
        q(values, 0.5).toFixed(3)
      } ms, p99 ${q(values, 0.99).toFixed(3)} ms`,
    );
  }
  console.log(
    `${label} added by the hop: p50 +${(q(cascadedMs, 0.5) - q(directMs, 0.5)).toFixed(3)} ms (×${
      (q(cascadedMs, 0.5) / q(directMs, 0.5)).toFixed(2)
    }), p99 +${(q(cascadedMs, 0.99) - q(directMs, 0.99)).toFixed(3)} ms (×${
      (q(cascadedMs, 0.99) / q(directMs, 0.99)).toFixed(2)
    })`,
  );
  direct.close();
  cascaded.close();
}

// A namespace (PUBLISH_NAMESPACE): B serves every track in it from A.
const trackOf = await publisher.publishNamespace(["bench", "cascade"]);
await measure("namespace", trackOf("audio", "audio/opus"), ["bench", "cascade"], "audio");
// A track published whole (PUBLISH, as a call's leg publishes voice/<sid>/uplink).
const leg = await publisher.publish({
  namespace: ["voice", "CAbench"],
  name: "uplink",
  capability: "voice/g711_ulaw",
});
await measure("published track", leg, ["voice", "CAbench"], "uplink");
leg.close();
console.log(`uptime: ${await uptime()}`);
await Deno.remove(tls, { recursive: true });
