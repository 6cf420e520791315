/**
 * RTP engines side by side (issue 14): the same load into JS and back out on each engine,
 * in the same run.
 *
 *   deno run -A --unstable-net bench/rtp_engine_bench.ts [--calls=200,1000] [--seconds=5]
 *     [--engines=deno,io_uring,io_uring:nosteer,io_uring:nofilter] [--shards=1] [--mode=sockets,session] [--shard-batch-us=0]
 *
 * The load comes from another process, `bench/native/rtp_blast.c` (built here with gcc): one
 * socket sends G.711-sized RTP (50 packets/s per call) to every call's port and times each
 * echo. The server side, in this process, echoes every packet:
 * - `sockets`: the engine alone — datagram into JS, straight back out (`RtpSockets`);
 * - `session`: a full `RtpSession` per call — parse, source latch with probation, SSRC
 *   check, reorder, then `sendAudio` of the payload (new RTP header) back to the latched source.
 * CPU is this process's user + system time (JS thread, Deno's I/O threads, the native shard
 * threads), so "µs per packet" counts every thread the engine uses. A baseline run echoes with
 * a C reflector (recvmmsg/sendmmsg), giving the kernel's share of the round trip; "added"
 * latency is an engine's RTT percentile minus the baseline's.
 *
 * @module
 */
import process from "node:process";
import { NativeRtpEngine, openRtpEngine, type RtpEngine, RtpSession } from "../src/rtp/mod.ts";

const arg = (name: string, def: string) =>
  Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def;
const CALLS = arg("calls", "200,1000").split(",").map(Number);
const SECONDS = Number(arg("seconds", "5"));
const ENGINES = arg("engines", "deno,io_uring").split(",");
const MODES = arg("mode", "sockets,session").split(",");
const SHARDS = Number(arg("shards", "1"));
const SHARD_BATCH_US = Number(arg("shard-batch-us", "0"));
const PPS = 50;
/** Engines whose sessions run without the engine's source filter. */
const NO_FILTER = new WeakSet<RtpEngine>();
const HOST = "127.0.0.1";
// Above the ephemeral range (32768-60999), so no random socket of the machine sits there.
const FIRST = 61000;
const PCMU = { audio: { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 } } as const;

const blastBin = await (async () => {
  const out = await Deno.makeTempFile({ prefix: "rtp_blast-" });
  const src = new URL("./native/rtp_blast.c", import.meta.url).pathname;
  const r = await new Deno.Command("gcc", { args: ["-O2", "-o", out, src] }).output();
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
  return out;
})();

interface BlastResult {
  sent: number;
  received: number;
  rtt_p50_us: number;
  rtt_p99_us: number;
  rtt_max_us: number;
}

async function blast(calls: number): Promise<BlastResult> {
  const out = await new Deno.Command(blastBin, {
    args: ["send", HOST, String(FIRST), String(calls), String(PPS), String(SECONDS)],
    stdout: "piped",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** CPU µs of this process's native shard threads (named cc-<engine>-<n>), from /proc. */
function shardMicros(): number {
  const tick = 1e6 / 100; // USER_HZ
  let total = 0;
  for (const t of Deno.readDirSync("/proc/self/task")) {
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/self/task/${t.name}/stat`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue; // the thread ended meanwhile
      throw error;
    }
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    if (!name.startsWith("cc-")) continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    total += (Number(fields[11]) + Number(fields[12])) * tick; // utime + stime
  }
  return total;
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

interface Row {
  engine: string;
  mode: string;
  calls: number;
  result: BlastResult;
  cpuUs: number;
  /** Of it, the native shard threads'. */
  shardUs: number;
  /** Packets the server side took in and sent back (its own count). */
  rx: number;
  tx: number;
  /** RSS growth from opening the calls' sockets/sessions and running the load, bytes per call. */
  rssPerCall: number;
}

async function baseline(calls: number): Promise<BlastResult> {
  console.error(`rtp_engine_bench: C reflector ${calls} calls`);
  const child = new Deno.Command(blastBin, {
    // Runs until killed below (an hour at most).
    args: ["reflect", HOST, String(FIRST), String(calls), "3600"],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  await reader.read(); // "ready"
  const result = await blast(calls);
  reader.releaseLock();
  try {
    child.kill("SIGKILL");
  } catch (error) {
    // It exited by itself (a bind failure says so on stderr).
    if (!(error instanceof TypeError)) throw error;
  }
  await child.status;
  await child.stdout.cancel().catch(() => {});
  return result;
}

async function serve(engine: RtpEngine, mode: string, calls: number): Promise<Row> {
  console.error(`rtp_engine_bench: ${engine.name} ${mode} ${calls} calls`);
  const closers: (() => Promise<void> | void)[] = [];
  const counts = { rx: 0, tx: 0 };
  const rss0 = Deno.memoryUsage().rss;
  for (let i = 0; i < calls; i++) {
    const port = FIRST + 2 * i;
    const range = { min: port, max: port + 1 };
    if (mode === "sockets") {
      const s = engine.bind(HOST, range, true);
      const rtp = s.rtp;
      const done = s.listen((bytes, from) => {
        counts.rx++;
        if (rtp.sendNow) {
          if (rtp.sendNow(bytes, from)) counts.tx++;
        } else {
          rtp.send(bytes, from).then(() => counts.tx++, () => {});
        }
      }, () => {});
      closers.push(async () => {
        s.close();
        await done;
      });
    } else {
      const session = await RtpSession.open({
        hostname: HOST,
        portRange: range,
        rtcpMux: true,
        payloads: PCMU,
        engine,
        inactivityTimeoutMs: 0,
        nativeFilter: !NO_FILTER.has(engine),
      });
      session.on("audio", (f) => {
        counts.rx++;
        if (session.sendAudio(f.payload, 160)) counts.tx++;
      });
      closers.push(() => session.close());
    }
  }
  const cpu0 = cpuMicros();
  const shard0 = shardMicros();
  const result = await blast(calls);
  const cpuUs = cpuMicros() - cpu0;
  const shardUs = shardMicros() - shard0;
  const rssPerCall = (Deno.memoryUsage().rss - rss0) / calls;
  for (const close of closers) await close();
  const label =
    (engine instanceof NativeRtpEngine && engine.steering?.active
      ? `${engine.name} steered`
      : engine.name) + (NO_FILTER.has(engine) ? " JS filter" : "");
  return { engine: label, mode, calls, result, cpuUs, shardUs, rssPerCall, ...counts };
}

const load = Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
console.log(
  `# rtp_engine_bench: ${SECONDS} s per run, ${PPS} pps per call, shard batch ${SHARD_BATCH_US} µs, load ${load}`,
);
const rows: Row[] = [];
const bases = new Map<number, BlastResult>();
for (const calls of CALLS) {
  bases.set(calls, await baseline(calls));
  for (const name of ENGINES) {
    const engine = name === "deno"
      ? openRtpEngine("deno", { override: null })
      : NativeRtpEngine.open(name.replace(/:.*/, "") as "io_uring", {
        shards: SHARDS,
        shardBatchUs: SHARD_BATCH_US,
        // "io_uring:nosteer": one socket per call on its shard (no sk_reuseport group).
        steer: !name.includes(":nosteer"),
        steerPorts: { min: FIRST, max: FIRST + 2 * calls + 1 },
      });
    // "io_uring:nofilter": sessions judge sources and SSRCs in JS (nativeFilter: false).
    if (name.includes(":nofilter")) NO_FILTER.add(engine);
    const steering = engine instanceof NativeRtpEngine ? engine.steering : undefined;
    if (steering) console.error(`rtp_engine_bench: ${name}: steering ${steering.why}`);
    try {
      for (const mode of MODES) rows.push(await serve(engine, mode, calls));
    } finally {
      await engine.close();
    }
  }
}
console.log(
  "| engine | path | calls | sent to it | echoes back | lost % | CPU µs/pkt (in+out) | of it shard threads | pkts/s per core (in+out) | full-duplex calls/core | RTT p50 / p99 µs | added p50 / p99 µs | RSS KiB/call |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const calls of CALLS) {
  const b = bases.get(calls)!;
  console.log(
    `| C reflector (baseline) | kernel only | ${calls} | ${b.sent} | ${b.received} | ${
      (100 * (1 - b.received / b.sent)).toFixed(2)
    } | – | – | – | – | ${b.rtt_p50_us} / ${b.rtt_p99_us} | 0 / 0 | – |`,
  );
  for (const r of rows.filter((r) => r.calls === calls)) {
    const { sent, received } = r.result;
    const packets = r.rx + r.tx; // what the server itself received and sent
    const usPerPacket = r.cpuUs / packets;
    const perCore = 1e6 / usPerPacket;
    console.log(
      `| ${r.engine} | ${r.mode} | ${calls} | ${sent} | ${received} | ${
        (100 * (1 - received / sent)).toFixed(2)
      } | ${usPerPacket.toFixed(2)} | ${(r.shardUs / packets).toFixed(2)} | ${
        Math.round(perCore)
      } | ${Math.round(perCore / (2 * PPS))} | ${r.result.rtt_p50_us} / ${r.result.rtt_p99_us} | ${
        r.result.rtt_p50_us - b.rtt_p50_us
      } / ${r.result.rtt_p99_us - b.rtt_p99_us} | ${(r.rssPerCall / 1024).toFixed(1)} |`,
    );
  }
}
await Deno.remove(blastBin);
