/**
 * SIP call-rate ramp against the real server process, started as the README says
 * (`deno run … src/server/main.ts --config <file>`), not in-process: for each rate sipp places
 * `uac_pcap` calls (G.711 A-law RTP ~9 s each, one RFC 4733 digit, BYE) for `--seconds`, and
 * one row is printed per rate: the rate sipp achieved (it falls behind `-r` when starved of
 * CPU), calls, sipp's successes and failures, retransmissions (sipp's
 * cumulative counter), the server's CPU (utime+stime from /proc, as a share of one core over
 * the round), its peak RSS (sampled every 500 ms), the machine's 1-minute load average at the
 * end of the round and sipp's non-zero failure counters.
 *
 *   deno run -A bench/sip_ramp.ts --rates 25,50,100,200 --seconds 20 --limit 2500
 *
 * The server runs on its defaults plus a `sip` section: one loopback trunk (its
 * `invitesPerSecond` at the section default), inbound calls to a plugin route (answered, RTP
 * published on the call's uplink, nothing attached).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { spawnServer } from "../tests/_lib/server_process.ts";
import {
  failureCounters,
  sippLoad,
  sippPlacedRate,
  sippStatistics,
} from "../tests/sip/_sipp_load.ts";
import { folderAreaOf, type ProfileSummary, startCpuProfile } from "./cpu_profile.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rates: { type: "string", default: "25,50,100" },
    seconds: { type: "string", default: "20" },
    limit: { type: "string", default: "2500" },
    /** Seconds to wait between rates for the previous calls to end. */
    pause: { type: "string", default: "15" },
    /** Sample the server's CPU (V8 inspector) during each rate; print self time by area. */
    profile: { type: "boolean", default: false },
    /** With --profile: also write each rate's raw profile to `<dir>/sip_ramp_<rate>.cpuprofile`. */
    "profile-out": { type: "string" },
    /** The sipp scenario: a file under tests/sip/scenarios, or `uac` (sipp's built-in, no RTP). */
    scenario: { type: "string", default: "uac_pcap.xml" },
    /** With `uac`: how long each call lasts, ms. */
    duration: { type: "string", default: "0" },
    /** `sip.rtpEngine` for the server (`auto`, `io_uring`, `xdp`, `deno`) [the server's default]. */
    "rtp-engine": { type: "string" },
    /** `sip.maxCalls`: above the peak of live calls (rate × ~9.5 s) so admission never refuses. */
    "max-calls": { type: "string", default: "5000" },
  },
});
const rates = values.rates.split(",").map(Number);
const seconds = Number(values.seconds);
const limit = Number(values.limit);
const pause = Number(values.pause);

const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-sip-ramp-" });
const sipPort = 25_060;
await Deno.writeTextFile(
  `${dataDir}/config.json`,
  JSON.stringify({
    sip: {
      listen: { host: "127.0.0.1", port: sipPort },
      publicAddress: "127.0.0.1",
      rtpPortRange: [30000, 39999],
      trunks: [{
        name: "sipp",
        address: "127.0.0.1:5999",
        allowFrom: ["127.0.0.1"],
        outboundNumbers: ["+1"],
      }],
      inbound: [{ match: "*", action: { plugin: "none" } }],
      maxCalls: Number(values["max-calls"]),
      ...(values["rtp-engine"] ? { rtpEngine: values["rtp-engine"] } : {}),
    },
  }),
);
await using server = await spawnServer({
  dataDir,
  configPath: `${dataDir}/config.json`,
  args: ["--http-port", "0", "--moq-port", "0"],
  denoFlags: values.profile ? ["--inspect=127.0.0.1:0"] : [],
});
const inspector = values.profile ? /ws:\/\/\S+/.exec(server.stderr())?.[0] : undefined;
if (values.profile && !inspector) throw new Error(`No inspector URL: ${server.stderr()}`);
const profiles: [number, ProfileSummary][] = [];
// The server's own line saying which RTP engine runs (and why).
const engineLine = server.lines.find((line) => line.includes("RTP engine:"));
if (engineLine) {
  const { msg, why } = JSON.parse(engineLine) as { msg: string; why?: string };
  console.log(`${msg}${why ? ` (${why})` : ""}`);
} else console.log("RTP engine: (no log line)");
const pid = server.child.pid;
const ticks = 100; // getconf CLK_TCK

function cpuSeconds(): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}
function rssMiB(): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return line ? Number(line[1]) / 1024 : NaN;
}

console.log(
  "| rate (calls/s) | placed (calls/s) | calls | successful | failed | retransmissions | server CPU (share of one core) | server CPU ms/call | server RSS peak (MiB) | load (1 min) | sipp failures |",
);
console.log(
  "| -------------- | ---------------- | ----- | ---------- | ------ | --------------- | ------------------------------ | ------------------ | --------------------- | ------------ | ------------- |",
);
for (const rate of rates) {
  const calls = rate * seconds;
  let peak = rssMiB();
  const sampler = setInterval(() => peak = Math.max(peak, rssMiB()), 500);
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const statFile = `${dataDir}/stat_${rate}.csv`;
  const profiler = inspector ? await startCpuProfile(inspector, 500, folderAreaOf, 40) : undefined;
  const result = await sippLoad({
    port: sipPort,
    rate,
    limit,
    calls,
    scenario: values.scenario,
    durationMs: Number(values.duration),
    statFile,
    statEverySeconds: 1,
    timeoutMs: (seconds + 120) * 1000,
  });
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds() - cpu0;
  if (profiler) {
    const summary = await profiler.stop();
    profiles.push([rate, summary]);
    const out = values["profile-out"];
    if (out) {
      await Deno.writeTextFile(`${out}/sip_ramp_${rate}.cpuprofile`, JSON.stringify(summary.raw));
    }
  }
  clearInterval(sampler);
  const stats = await sippStatistics(statFile);
  const retransmissions = stats["Retransmissions(C)"] ?? NaN;
  const placed = await sippPlacedRate(statFile, calls);
  const load = Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
  const failures = Object.entries(failureCounters(stats)).map(([k, v]) => `${k} ${v}`).join(", ");
  console.log(
    `| ${rate} | ${
      placed.toFixed(0)
    } | ${calls} | ${result.successful} | ${result.failed} | ${retransmissions} | ${
      (cpu / wall).toFixed(2)
    } | ${(cpu * 1000 / calls).toFixed(1)} | ${peak.toFixed(0)} | ${load} | ${failures} |`,
  );
  await new Promise((resolve) => setTimeout(resolve, pause * 1000));
}
for (const [rate, summary] of profiles) {
  const line = (t: { name: string; ms: number; share: number }) =>
    `  ${(t.share * 100).toFixed(1).padStart(5)} %  ${t.ms.toFixed(0).padStart(7)} ms  ${t.name}`;
  console.log(
    `\nServer CPU profile at ${rate} calls/s (${summary.sampledMs.toFixed(0)} ms sampled)`,
  );
  console.log("by area:\n" + summary.areas.map(line).join("\n"));
  console.log("by function (self time):\n" + summary.functions.map(line).join("\n"));
}
server.child.kill("SIGTERM");
await server.child.status;
await Deno.remove(dataDir, { recursive: true });
