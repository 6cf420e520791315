/**
 * Memory per RTP session on each engine (issue 14):
 *
 *   deno run -A --unstable-net --v8-flags=--expose-gc bench/rtp_engine_memory.ts \
 *     [--calls=1000] [--engine=deno|io_uring]
 *
 * Opens N sessions (PCMU, RTCP on its own port) on one engine, idle, and reports the growth of
 * RSS and of the V8 heap per session after a full GC, then closes them. The native engine's
 * fixed cost (rings, provided buffers: allocated once per shard) is reported apart, from the
 * engine opened with no session. Idle sessions: buffers that fill with traffic (reorder,
 * socket buffers in the kernel, which RSS does not show) are not in these figures.
 *
 * @module
 */
import { NativeRtpEngine, openRtpEngine, type RtpEngine, RtpSession } from "../src/rtp/mod.ts";

const CALLS = Number(
  Deno.args.find((a) => a.startsWith("--calls="))?.slice("--calls=".length) ?? "1000",
);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("Run with --v8-flags=--expose-gc");
const PCMU = { audio: { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 } } as const;

function sample() {
  gc!();
  gc!();
  const m = Deno.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

async function measure(name: string, open: () => RtpEngine) {
  const before = sample();
  const engine = open();
  const withEngine = sample();
  const sessions: RtpSession[] = [];
  for (let i = 0; i < CALLS; i++) {
    sessions.push(
      await RtpSession.open({
        hostname: "127.0.0.1",
        portRange: { min: 61000, max: 64999 },
        payloads: PCMU,
        engine,
        inactivityTimeoutMs: 0,
      }),
    );
  }
  const open_ = sample();
  for (const s of sessions) await s.close();
  await engine.close();
  const kib = (n: number) => (n / 1024).toFixed(1);
  console.log(
    `| ${name} | ${CALLS} | ${kib(withEngine.rss - before.rss)} | ${
      kib((open_.rss - withEngine.rss) / CALLS)
    } | ${kib((open_.heap - withEngine.heap) / CALLS)} |`,
  );
}

console.log(`# rtp_engine_memory: load ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log(
  "| engine | sessions | engine fixed RSS KiB | RSS KiB per session | V8 heap KiB per session |",
);
console.log("|---|---|---|---|---|");
// One engine per process (`--engine=deno|io_uring`): memory freed by one run would make the
// next one look free.
const which = Deno.args.find((a) => a.startsWith("--engine="))?.slice("--engine=".length) ??
  "deno";
if (which === "deno") await measure("deno", () => openRtpEngine("deno", { override: null }));
else await measure("io_uring (1 shard)", () => NativeRtpEngine.open("io_uring", { shards: 1 }));
