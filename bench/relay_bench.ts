/**
 * What the relay costs at voice scale: N tracks × one 160-byte object every 20 ms (a group
 * every `--group-objects` objects), 1→1, plus 1→10 and 1→100 fan-out, each scenario run
 * `direct` (no relay: the load generators serve their own tracks) and `relay` (the relay alone
 * in its own process, `bench/relay_server.ts`) in the same run.
 *
 * The load comes from `--gens` generator processes (`bench/relay_load.ts`), each publishing a
 * slice of the tracks and subscribing to a slice, so that the generator is not one saturated
 * event loop; each generator's share of a core is printed so a saturated one is visible.
 *
 * Per row: objects/s delivered, loss (objects stamped in the window and not read 0.5 s after
 * it), relay CPU µs per delivered object and objects/s per core (from `/proc/<pid>/stat`),
 * latency p50/p99 (absolute stamps, one-way publisher write → subscriber read) and what the
 * relay adds over `direct`, relay RSS (VmRSS at the end, VmHWM peak).
 *
 * Run: `deno run -A --unstable-net bench/relay_bench.ts [--quick] [--only name,...]
 * [--modes direct,relay] [--gens N] [--group-objects N] [--seconds S] [--rss-every S] [--profile]
 * [--json file] [--datagrams] [--shards 1,2] [--cross]`. `--seconds 300 --rss-every 10` is the
 * memory-flat soak; `--shards 1,2` runs `relay` once per shard count (the relay process's CPU
 * counts all its Worker shards; call t on shard t mod shards, its publisher and subscribers
 * there), `--cross` puts every subscriber on the next shard (every object crosses once);
 * `--datagrams` puts every track on the datagram lane (publishers offer it, subscribers accept).
 * Results and analysis: BENCHMARKS.md, section "Relay data path at voice scale".
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadOrCreateDevCertificate } from "../src/server/certificate.ts";
import { FRAMES_PER_GROUP } from "../src/voice/track.ts";
import { inspectorUrl, type ProfileSummary, startCpuProfile } from "./cpu_profile.ts";
import type { LoadOptions, LoadReport } from "./relay_load.ts";

type Mode = "direct" | "relay";

interface Scenario {
  readonly name: string;
  readonly tracks: number;
  readonly subscribersPerTrack: number;
  readonly pubConnections: number;
  readonly subConnections: number;
}

const SCENARIOS: Scenario[] = [
  { name: "fan-out 1→1", tracks: 1, subscribersPerTrack: 1, pubConnections: 1, subConnections: 1 },
  {
    name: "fan-out 1→10",
    tracks: 1,
    subscribersPerTrack: 10,
    pubConnections: 1,
    subConnections: 10,
  },
  {
    name: "fan-out 1→100",
    tracks: 1,
    subscribersPerTrack: 100,
    pubConnections: 1,
    subConnections: 100,
  },
  {
    name: "100 tracks",
    tracks: 100,
    subscribersPerTrack: 1,
    pubConnections: 10,
    subConnections: 10,
  },
  {
    name: "400 tracks",
    tracks: 400,
    subscribersPerTrack: 1,
    pubConnections: 10,
    subConnections: 10,
  },
  {
    name: "1000 tracks",
    tracks: 1000,
    subscribersPerTrack: 1,
    pubConnections: 10,
    subConnections: 10,
  },
];

// /proc ---------------------------------------------------------------------------------

/** CPU time of process `pid` (clock ticks of 10 ms), in µs. */
function procCpuUs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** VmRSS and VmHWM of process `pid`, in MiB. */
function procRss(pid: number): { rss: number; peak: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (key: string) => Number(status.match(new RegExp(`${key}:\\s+(\\d+)`))?.[1] ?? NaN);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

function loadAverage(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

// Child processes -----------------------------------------------------------------------

/** A child speaking JSON lines on stdin/stdout. */
class Child implements AsyncDisposable {
  readonly #process: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: ReadableStreamDefaultReader<string>;
  #text = "";
  readonly stderr?: ReadableStream<Uint8Array>;

  constructor(args: string[], pipeStderr = false) {
    this.#process = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: pipeStderr ? "piped" : "inherit",
    }).spawn();
    this.#writer = this.#process.stdin.getWriter();
    this.#lines = this.#process.stdout.pipeThrough(new TextDecoderStream()).getReader();
    if (pipeStderr) this.stderr = this.#process.stderr;
  }

  get pid(): number {
    return this.#process.pid;
  }

  async send(message: unknown): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(message) + "\n"));
  }

  async next<T>(): Promise<T> {
    while (!this.#text.includes("\n")) {
      const { value, done } = await this.#lines.read();
      if (done) throw new Error(`Bench child ${this.pid} exited before answering`);
      this.#text += value;
    }
    const at = this.#text.indexOf("\n");
    const line = this.#text.slice(0, at);
    this.#text = this.#text.slice(at + 1);
    return JSON.parse(line) as T;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#writer.close().catch(() => {}); // the child may have exited already
    const timer = setTimeout(() => this.#process.kill("SIGKILL"), 3000);
    await this.#process.status;
    clearTimeout(timer);
    await this.#lines.cancel().catch(() => {}); // already ended with the child
  }
}

// One run -------------------------------------------------------------------------------

interface Result {
  readonly scenario: string;
  readonly mode: Mode;
  /** Relay shards (relay mode). */
  readonly shards: number;
  readonly seconds: number;
  readonly deliveredPerSec: number;
  readonly lost: number;
  readonly expected: number;
  readonly relayCpuUs?: number;
  readonly relayCores?: number;
  readonly genCores: number[];
  readonly rssMiB?: number;
  /** Relay VmRSS (MiB) every `--rss-every` seconds through the window. */
  readonly rssSeries: number[];
  readonly peakRssMiB?: number;
  readonly failedSubscriptions: number;
  readonly brokenSessions: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly load: string;
  readonly profile?: ProfileSummary;
}

interface RunOptions {
  readonly certDir: string;
  readonly gens: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly groupObjects: number;
  readonly profile?: boolean;
  readonly rssEveryMs?: number;
  readonly datagrams?: boolean;
  readonly cross?: boolean;
}

const LOAD = new URL("./relay_load.ts", import.meta.url).pathname;
const RELAY = new URL("./relay_server.ts", import.meta.url).pathname;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;
}

async function run(
  scenario: Scenario,
  mode: Mode,
  options: RunOptions,
  shards = 1,
): Promise<Result> {
  const { certDir, warmupMs, measureMs } = options;
  const gens = Math.min(options.gens, Math.max(scenario.tracks, scenario.subscribersPerTrack));
  await using relay = mode === "relay"
    ? new Child(
      [
        "run",
        "-A",
        "--unstable-net",
        ...(options.profile ? ["--inspect=127.0.0.1:0"] : []),
        RELAY,
        certDir,
        String(shards),
        String(scenario.tracks),
      ],
      options.profile,
    )
    : undefined;
  const inspector = relay?.stderr ? await inspectorUrl(relay.stderr) : undefined;
  const bound = relay ? await relay.next<{ port: number; ports: number[] }>() : undefined;
  const relayPort = bound?.port ?? 0;
  const shardPorts = shards > 1 ? bound?.ports : undefined;
  const children: Child[] = [];
  try {
    for (let index = 0; index < gens; index++) {
      const load: LoadOptions = {
        index,
        gens,
        mode,
        certDir,
        relayPort,
        shardPorts,
        cross: options.cross,
        tracks: scenario.tracks,
        subscribersPerTrack: scenario.subscribersPerTrack,
        pubConnections: Math.ceil(scenario.pubConnections / gens),
        subConnections: scenario.subConnections,
        groupObjects: options.groupObjects,
        datagrams: options.datagrams,
      };
      children.push(new Child(["run", "-A", "--unstable-net", LOAD, JSON.stringify(load)]));
    }
    const ports = await Promise.all(
      children.map(async (c) => (await c.next<{ port: number }>()).port),
    );
    let failedSubscriptions = 0;
    for (const child of children) await child.send({ cmd: "subscribe", ports, relayPort });
    for (const child of children) {
      failedSubscriptions += (await child.next<{ failed: number }>()).failed;
    }
    const t0 = performance.timeOrigin + performance.now() + warmupMs;
    const t1 = t0 + measureMs;
    for (const child of children) await child.send({ cmd: "start", t0, t1 });
    for (const child of children) await child.next();
    await delay(t0 - (performance.timeOrigin + performance.now()));
    const profiler = inspector ? await startCpuProfile(inspector) : undefined;
    const w0 = performance.now();
    const relayCpu0 = relay ? procCpuUs(relay.pid) : 0;
    const genCpu0 = children.map((c) => procCpuUs(c.pid));
    const rssSeries: number[] = [];
    for (;;) {
      const left = t1 - (performance.timeOrigin + performance.now());
      if (!relay || !options.rssEveryMs || left <= options.rssEveryMs) {
        await delay(left);
        break;
      }
      await delay(options.rssEveryMs);
      rssSeries.push(Math.round(procRss(relay.pid).rss));
    }
    const relayCpu1 = relay ? procCpuUs(relay.pid) : 0;
    const genCpu1 = children.map((c) => procCpuUs(c.pid));
    const seconds = (performance.now() - w0) / 1000;
    const load = loadAverage();
    const profile = await profiler?.stop();
    const memory = relay ? procRss(relay.pid) : undefined;
    await delay(500); // objects of the window still in flight
    const reports: LoadReport[] = [];
    for (const child of children) await child.send({ cmd: "report" });
    for (const child of children) reports.push(await child.next<LoadReport>());
    const expected = reports.reduce((n, r) => n + r.sent, 0);
    const delivered = reports.reduce((n, r) => n + r.received, 0);
    const latencies = new Float64Array(reports.flatMap((r) => r.latencies)).sort();
    const relayUs = relay ? relayCpu1 - relayCpu0 : undefined;
    return {
      scenario: scenario.name,
      mode,
      shards: mode === "relay" ? shards : 1,
      seconds,
      deliveredPerSec: delivered / seconds,
      lost: expected - delivered,
      expected,
      relayCpuUs: relayUs === undefined ? undefined : relayUs / Math.max(1, delivered),
      relayCores: relayUs === undefined ? undefined : relayUs / 1e6 / seconds,
      genCores: genCpu1.map((c, i) => (c - genCpu0[i]) / 1e6 / seconds),
      rssMiB: memory?.rss,
      rssSeries,
      peakRssMiB: memory?.peak,
      failedSubscriptions,
      brokenSessions: reports.reduce((n, r) => n + r.brokenSessions, 0),
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      max: percentile(latencies, 1),
      load,
      profile,
    };
  } finally {
    for (const child of children) await child.send({ cmd: "exit" }).catch(() => {}); // already gone
    for (const child of children) await child[Symbol.asyncDispose]();
  }
}

// Report --------------------------------------------------------------------------------

const f = (x: number | undefined, digits = 1) =>
  x === undefined || isNaN(x) ? "—" : x.toFixed(digits);

function label(r: Result): string {
  return r.mode === "relay" && r.shards > 1 ? `relay ×${r.shards}` : r.mode;
}

function table(results: Result[]): string {
  const rows = [
    "| scenario | mode | delivered obj/s | lost | relay µs/obj | relay obj/s per core | relay RSS MiB (peak) | p50 ms | p99 ms | + p50 | + p99 | generators (cores) | load avg |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
  ];
  for (const r of results) {
    const direct = results.find((d) => d.scenario === r.scenario && d.mode === "direct");
    const perCore = r.relayCores ? r.deliveredPerSec / r.relayCores : undefined;
    const added = (x: number, base: number | undefined) =>
      r.mode === "direct" || base === undefined
        ? ""
        : `${x - base >= 0 ? "+" : ""}${f(x - base, 2)}`;
    rows.push(
      `| ${r.scenario} | ${label(r)} | ${f(r.deliveredPerSec, 0)} | ${r.lost} / ${r.expected} | ${
        f(r.relayCpuUs)
      } | ${perCore === undefined ? "" : f(perCore, 0)} | ${
        r.rssMiB === undefined ? "" : `${f(r.rssMiB, 0)} (${f(r.peakRssMiB, 0)})`
      } | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${added(r.p50, direct?.p50)} | ${
        added(r.p99, direct?.p99)
      } | ${r.genCores.map((c) => f(c, 2)).join(" + ")} | ${r.load} |`,
    );
  }
  return rows.join("\n");
}

function profileReport(p: ProfileSummary): string {
  const line = (s: { name: string; ms: number; share: number }) =>
    `  ${(s.share * 100).toFixed(1).padStart(5)}%  ${s.ms.toFixed(0).padStart(6)} ms  ${s.name}`;
  return [
    `Relay process profile, ${p.sampledMs.toFixed(0)} ms sampled. Self time by area:`,
    ...p.areas.map(line),
    "Top self-time functions:",
    ...p.functions.map(line),
  ].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      "group-objects": { type: "string", default: String(FRAMES_PER_GROUP) },
      gens: { type: "string", default: "2" },
      seconds: { type: "string" },
      "rss-every": { type: "string" },
      datagrams: { type: "boolean", default: false },
      shards: { type: "string", default: "1" },
      cross: { type: "boolean", default: false },
      modes: { type: "string", default: "direct,relay" },
      only: { type: "string" },
      json: { type: "string" },
    },
  });
  const quick = values.quick;
  const modes = values.modes.split(",") as Mode[];
  const only = values.only?.split(",");
  const scenarios = SCENARIOS.filter((s) =>
    only ? only.includes(s.name) : !(quick && s.tracks > 100)
  );
  const certDir = await Deno.makeTempDir({ prefix: "clutchcall-bench-cert-" });
  await loadOrCreateDevCertificate({ dataDir: certDir });
  const options: RunOptions = {
    certDir,
    gens: Number(values.gens),
    warmupMs: quick ? 1000 : 2000,
    measureMs: values.seconds ? Number(values.seconds) * 1000 : quick ? 3000 : 8000,
    groupObjects: Number(values["group-objects"]),
    profile: values.profile,
    rssEveryMs: values["rss-every"] ? Number(values["rss-every"]) * 1000 : undefined,
    datagrams: values.datagrams,
    cross: values.cross,
  };
  const shardCounts = values.shards.split(",").map(Number);
  console.log(
    `Relay bench${
      options.datagrams ? " (datagram lane)" : ""
    }: 160-byte objects every 20 ms, ${options.groupObjects} objects per group, ${
      options.measureMs / 1000
    } s window, ${options.gens} generator processes, ${navigator.hardwareConcurrency} cores, load ${loadAverage()}`,
  );
  const results: Result[] = [];
  try {
    for (const scenario of scenarios) {
      const runs: [Mode, number][] = modes.flatMap((m): [Mode, number][] =>
        m === "relay" ? shardCounts.map((n): [Mode, number] => [m, n]) : [[m, 1]]
      );
      for (const [mode, shards] of runs) {
        const r = await run(scenario, mode, options, shards);
        results.push(r);
        console.log(
          `${scenario.name.padEnd(14)} ${label(r).padEnd(8)} ${
            f(r.deliveredPerSec, 0).padStart(7)
          } obj/s` +
            `  lost ${r.lost}/${r.expected}  relay ${f(r.relayCpuUs)} µs/obj (${
              f((r.relayCores ?? 0) * 100, 0)
            }% core)  p50 ${f(r.p50, 2)} p99 ${f(r.p99, 2)} max ${f(r.max, 1)} ms` +
            `  gens ${r.genCores.map((c) => f(c, 2)).join("+")}  load ${r.load}` +
            (r.failedSubscriptions || r.brokenSessions
              ? `  FAILED subscriptions ${r.failedSubscriptions}, sessions ${r.brokenSessions}`
              : ""),
        );
        if (r.profile) console.log(profileReport(r.profile));
        if (r.rssSeries.length) {
          console.log(`relay RSS MiB every ${values["rss-every"]} s: ${r.rssSeries.join(" ")}`);
        }
      }
    }
    console.log("\n" + table(results));
    if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(results, null, 2));
  } finally {
    await Deno.remove(certDir, { recursive: true });
  }
}

if (import.meta.main) await main();
