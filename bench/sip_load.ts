/**
 * SIP gateway load: sipp places calls (`uac_pcap`: G.711 A-law RTP for ~9 s each, then one
 * RFC 4733 digit) at a rate into a gateway on the pure-Deno UDP + RTP path, in this process
 * (with the Calls service on Deno KV and the relay origin). Prints, per round: calls placed,
 * sipp's successes and failures (with its failure counters and error lines), the gateway
 * process's CPU time per call and share of one core, event-loop lag, and memory — RSS and
 * the V8 heap after a forced GC, before and after the round once every per-call table has
 * drained back to zero (run with `--v8-flags=--expose-gc` for the heap numbers).
 *
 *   deno run -A --unstable-net --unstable-kv --v8-flags=--expose-gc bench/sip_load.ts \
 *     --rate 50 --limit 500 --seconds 60 --rounds 2
 *
 * `--rounds 2` runs the same load twice: a flat heap after round 2 versus after round 1 is
 * the "memory flat" check (round 1 also pays for one-time warm-up: JIT, lazily loaded code).
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { heldRtpPorts } from "../src/rtp/port_allocator.ts";
import { rtpMedia } from "../src/sip/rtp_media.ts";
import { startGateway } from "../tests/sip/_harness.ts";
import { failureCounters, sippLoad, sippStatistics } from "../tests/sip/_sipp_load.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rate: { type: "string", default: "10" },
    limit: { type: "string", default: "50" },
    seconds: { type: "string", default: "10" },
    rounds: { type: "string", default: "1" },
    /** Keep sipp's statistics CSV and error log here. */
    "trace-dir": { type: "string" },
  },
});
const rate = Number(values.rate);
const limit = Number(values.limit);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const total = rate * seconds;
const traceDir = values["trace-dir"];
if (traceDir) await Deno.mkdir(traceDir, { recursive: true });

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (bytes: number) => +(bytes / 2 ** 20).toFixed(1);
async function memory(): Promise<{ rssMiB: number; heapUsedMiB: number | null }> {
  for (let i = 0; i < 3 && gc; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  const usage = Deno.memoryUsage();
  return { rssMiB: mib(usage.rss), heapUsedMiB: gc ? mib(usage.heapUsed) : null };
}

await using fx = await startGateway({
  media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1", portRange: [30000, 39999] }),
  sip: { invitesPerSecond: 10_000, inbound: [{ match: "*", action: { plugin: "none" } }] },
});

/** Everything per call the process holds in memory; all zero when the gateway is idle. */
function tables(): Record<string, number> {
  return {
    ...fx.gateway.tables(),
    ...Object.fromEntries(Object.entries(fx.calls.tables()).map(([k, v]) => [`calls.${k}`, v])),
    originTracks: fx.origin.trackCount,
    rtpPorts: heldRtpPorts(),
  };
}
const idle = () => Object.values(tables()).every((n) => n === 0);

const before = await memory();
console.log(JSON.stringify({ rate, limit, calls: total, rounds, memoryBefore: before }));
for (let round = 1; round <= rounds; round++) {
  // Event-loop lag: how late a 50 ms interval fires.
  const lags: number[] = [];
  let last = performance.now();
  const lagTimer = setInterval(() => {
    const now = performance.now();
    lags.push(now - last - 50);
    last = now;
  }, 50);
  const stat = traceDir ? `${traceDir}/stat_${round}.csv` : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await sippLoad({
    port: fx.port,
    rate,
    limit,
    calls: total,
    statFile: stat,
    timeoutMs: (seconds + 90) * 1000,
  });
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(lagTimer);
  const peakRss = Deno.memoryUsage().rss;
  // Wait for every per-call table to drain (sip.js transaction timers, 64·T1 lingering).
  const drainStart = performance.now();
  while (!idle() && performance.now() - drainStart < 120_000) {
    await new Promise((r) => setTimeout(r, 250));
  }
  const drainSeconds = +((performance.now() - drainStart) / 1000).toFixed(1);
  const completed = fx.events.filter((e) =>
    e.type === "status" && e.call.status === "completed"
  ).length;
  const warnings = fx.logs.filter((l) => /"level":"(warn|error)"/.test(l));
  // The harness keeps every event and log line for tests: drop them, they are not the
  // gateway's memory.
  fx.events.length = 0;
  fx.logs.length = 0;
  const after = await memory();
  const errors = result.stderr.split("\n").filter((l) => l.trim());
  if (traceDir) await Deno.writeTextFile(`${traceDir}/sipp_err_${round}.log`, result.stderr);
  lags.sort((a, b) => a - b);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(JSON.stringify({
    round,
    sippSuccessful: result.successful,
    sippFailed: result.failed,
    sippFailures: stat ? failureCounters(await sippStatistics(stat)) : undefined,
    sippExit: result.code,
    sippErrorLines: errors.length,
    sippErrorSample: errors.slice(0, 5),
    completedInGateway: completed,
    gatewayWarnings: warnings.length,
    gatewayWarningSample: warnings.slice(0, 3),
    wallSeconds: +wall.toFixed(1),
    cpuSeconds: +(cpuMs / 1000).toFixed(2),
    cpuMsPerCall: +(cpuMs / total).toFixed(1),
    cpuShareOfOneCore: +(cpuMs / 1000 / wall).toFixed(2),
    eventLoopLagMs: {
      p50: +(lags[Math.floor(lags.length / 2)] ?? 0).toFixed(1),
      p99: +(lags[Math.floor(lags.length * 0.99)] ?? 0).toFixed(1),
      max: +(lags[lags.length - 1] ?? 0).toFixed(1),
    },
    peakRssMiB: mib(peakRss),
    drainSeconds,
    tablesAfter: tables(),
    memoryAfter: after,
  }));
}
