/**
 * What the relay costs: voice-like tracks (one 160-byte object every 20 ms, a group every
 * `--group-objects` objects, 50 = one group per second by default) through the relay, each
 * scenario compared with a direct run in the same process that has no relay in the path.
 *
 * Modes, for every scenario:
 * - `direct`: the publisher is the server. Its tracks live in an {@linkcode Origin} served by
 *   draft-14 server sessions; subscribers connect to it over raw QUIC. One QUIC hop, the same
 *   forwarder code the relay uses.
 * - `relay`: a {@linkcode Relay} in this process; publishers PUBLISH to it over raw QUIC and
 *   subscribers subscribe through it. Two QUIC hops, everything on one event loop.
 * - `relay-proc`: the same relay in a child process (`bench/relay_server.ts`), so its CPU
 *   time is read alone from `/proc/<pid>/stat`.
 *
 * Relay cost = relay run minus direct run. Latency is one-way, from the publisher's write
 * (a `performance.now()` in the payload's first 8 bytes) to the subscriber's read, all in one
 * process so the clocks agree.
 *
 * Run: `deno run -A --unstable-net bench/relay_bench.ts [--quick] [--profile]
 * [--group-objects N] [--modes direct,relay,relay-proc] [--only name,...]`.
 * Results and analysis: BENCHMARKS.md, section "Relay fan-out".
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { Relay } from "../src/relay/relay.ts";
import { listenMoq, type MoqEndpoint } from "../src/relay/transport/mod.ts";
import { MoqClient } from "../src/relay/client.ts";
import { Session } from "../src/relay/wire/draft14/session.ts";
import {
  type GroupConsumer,
  type GroupProducer,
  Origin,
  type TrackConsumer,
  type TrackInfo,
  type TrackProducer,
} from "../src/relay/model/mod.ts";
import { loadOrCreateDevCertificate, type TlsCertificate } from "../src/server/certificate.ts";
import { createLogger } from "../src/log/mod.ts";
import { FRAMES_PER_GROUP } from "../src/voice/track.ts";
import { inspectorUrl, type ProfileSummary, startCpuProfile } from "./cpu_profile.ts";

const OBJECT_MS = 20;
const PAYLOAD_BYTES = 160;
const log = createLogger({
  level: (Deno.env.get("BENCH_LOG") ?? "error") as "error",
  json: true,
  sink: (line) => console.error(line),
});

type Mode = "direct" | "relay" | "relay-proc";

interface Scenario {
  readonly name: string;
  readonly tracks: number;
  readonly subscribersPerTrack: number;
  /** Publisher connections (relay modes) and subscriber connections. */
  readonly pubConnections: number;
  readonly subConnections: number;
  /** Objects per group, overriding `--group-objects`. */
  readonly groupObjects?: number;
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
    name: "1000 tracks",
    tracks: 1000,
    subscribersPerTrack: 1,
    pubConnections: 10,
    subConnections: 10,
  },
  {
    name: "100 tracks, group/object",
    tracks: 100,
    subscribersPerTrack: 1,
    pubConnections: 10,
    subConnections: 10,
    groupObjects: 1,
  },
];

// CPU time ------------------------------------------------------------------------------

/** CPU time (user + system) of this process, in µs. */
function selfCpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** CPU time of process `pid` from /proc (clock ticks of 10 ms), in µs. */
function procCpuUs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

// Servers -------------------------------------------------------------------------------

interface Server extends AsyncDisposable {
  readonly port: number;
  /** The relay's process id when it runs apart. */
  readonly pid?: number;
  /** Where the inspector listens (relay-proc with profiling). */
  readonly inspector?: string;
  /** Producers for `tracks`, published the way this mode publishes. */
  publish(tracks: TrackInfo[], connections: number): Promise<TrackProducer[]>;
}

function connect(port: number, cert: TlsCertificate): Promise<MoqClient> {
  return MoqClient.connect({ hostname: "127.0.0.1", port, caCerts: [cert.certPem], log });
}

function listen(cert: TlsCertificate): MoqEndpoint {
  return listenMoq({ hostname: "127.0.0.1", port: 0, cert: cert.certPem, key: cert.keyPem });
}

/** PUBLISH every track to the relay over `connections` raw-QUIC clients. */
async function publishThrough(
  port: number,
  cert: TlsCertificate,
  tracks: TrackInfo[],
  connections: number,
  clients: MoqClient[],
): Promise<TrackProducer[]> {
  for (let i = 0; i < connections; i++) clients.push(await connect(port, cert));
  return await Promise.all(tracks.map((info, i) => clients[i % connections].publish(info)));
}

/** The publisher as server: its origin, served over QUIC, no relay. */
function startDirect(cert: TlsCertificate): Server {
  const origin = new Origin({ subscribeTimeoutMs: 10_000 });
  const endpoint = listen(cert);
  const sessions: Session[] = [];
  (async () => {
    for await (const transport of endpoint) {
      sessions.push(new Session(transport, { role: "server", origin, log }));
    }
  })();
  return {
    port: endpoint.addr.port,
    publish: (tracks) => Promise.resolve(tracks.map((info) => origin.publishTrack(info))),
    async [Symbol.asyncDispose]() {
      for (const session of sessions) session.close();
      endpoint.close();
      await Promise.resolve();
    },
  };
}

function startRelayHere(cert: TlsCertificate): Server {
  const relay = new Relay({ log });
  const endpoint = listen(cert);
  relay.serve(endpoint);
  const clients: MoqClient[] = [];
  const port = endpoint.addr.port;
  return {
    port,
    publish: (tracks, connections) => publishThrough(port, cert, tracks, connections, clients),
    async [Symbol.asyncDispose]() {
      for (const client of clients) client.close();
      await relay.close(0);
      endpoint.close();
    },
  };
}

async function startRelayProcess(certDir: string, cert: TlsCertificate, profile: boolean) {
  const script = new URL("./relay_server.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-net",
      ...(profile ? ["--inspect=127.0.0.1:0"] : []),
      script,
      certDir,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: profile ? "piped" : "inherit",
  }).spawn();
  const inspector = profile ? await inspectorUrl(child.stderr) : undefined;
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error("Cannot start bench relay: it exited before printing its port");
    text += value;
  }
  const { port } = JSON.parse(text.slice(0, text.indexOf("\n"))) as { port: number };
  const clients: MoqClient[] = [];
  const server: Server = {
    port,
    pid: child.pid,
    inspector,
    publish: (tracks, connections) => publishThrough(port, cert, tracks, connections, clients),
    async [Symbol.asyncDispose]() {
      for (const client of clients) client.close();
      await child.stdin.close();
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
      await child.status;
      clearTimeout(timer);
      await lines.cancel().catch(() => {});
    },
  };
  return server;
}

// Publisher pacing ----------------------------------------------------------------------

const stamp = new Float64Array(1);
const stampBytes = new Uint8Array(stamp.buffer);

/**
 * Writes one object per track every 20 ms, tracks spread evenly over the 20 ms (one slot a
 * millisecond), as independent calls would be. Counts objects written inside the window.
 */
class Pacer {
  readonly #producers: TrackProducer[];
  readonly #groupObjects: number;
  readonly #groups: (GroupProducer | undefined)[];
  readonly #nextId: number[];
  readonly #slots: number[][] = Array.from({ length: OBJECT_MS }, () => []);
  windowStart = Infinity;
  windowEnd = Infinity;
  sentInWindow = 0;
  #stopped = false;
  #done: Promise<void> | undefined;

  constructor(producers: TrackProducer[], groupObjects: number) {
    this.#producers = producers;
    this.#groupObjects = groupObjects;
    this.#groups = producers.map(() => undefined);
    this.#nextId = producers.map(() => 0);
    producers.forEach((_, i) =>
      this.#slots[Math.floor((i * OBJECT_MS) / producers.length)].push(i)
    );
  }

  start(): void {
    this.#done = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
    for (const group of this.#groups) group?.close();
  }

  async #run(): Promise<void> {
    const start = performance.now();
    let slot = 0;
    while (!this.#stopped) {
      const now = performance.now();
      while (start + slot <= now) {
        for (const i of this.#slots[slot % OBJECT_MS]) this.#emit(i);
        slot++;
      }
      // Sleep through empty slots: a lone track wakes the loop every 20 ms, not every 1 ms.
      while (this.#slots[slot % OBJECT_MS].length === 0) slot++;
      const wait = start + slot - performance.now();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
    }
  }

  #emit(i: number): void {
    let group = this.#groups[i];
    if (!group || this.#nextId[i] === this.#groupObjects) {
      group?.close();
      group = this.#groups[i] = this.#producers[i].appendGroup();
      this.#nextId[i] = 0;
    }
    const payload = new Uint8Array(PAYLOAD_BYTES);
    const now = performance.now();
    stamp[0] = now;
    payload.set(stampBytes);
    group.write({ id: this.#nextId[i]++, payload });
    if (now >= this.windowStart && now < this.windowEnd) this.sentInWindow++;
  }
}

// Subscribers ---------------------------------------------------------------------------

/** What subscribers saw of objects written inside the window. */
class Receipts {
  latencies = new Float64Array(1 << 16);
  received = 0;
  groups = 0;
  windowStart = Infinity;
  windowEnd = Infinity;
  readonly #stamp = new Float64Array(1);
  readonly #stampBytes = new Uint8Array(this.#stamp.buffer);

  record(payload: Uint8Array): void {
    const now = performance.now();
    this.#stampBytes.set(payload.subarray(0, 8));
    const sent = this.#stamp[0];
    if (sent < this.windowStart || sent >= this.windowEnd) return;
    if (this.received === this.latencies.length) {
      const grown = new Float64Array(this.latencies.length * 2);
      grown.set(this.latencies);
      this.latencies = grown;
    }
    this.latencies[this.received++] = now - sent;
  }

  percentile(p: number): number {
    const sorted = this.latencies.subarray(0, this.received).sort();
    return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;
  }
}

async function readGroup(group: GroupConsumer, receipts: Receipts): Promise<void> {
  for (let object; (object = await group.readObject());) receipts.record(object.payload);
}

async function readTrack(consumer: TrackConsumer, receipts: Receipts): Promise<void> {
  for (let group; (group = await consumer.nextGroup());) {
    receipts.groups++;
    readGroup(group, receipts).catch(() => {});
  }
}

// One run -------------------------------------------------------------------------------

interface Result {
  readonly scenario: string;
  readonly mode: Mode;
  readonly groupObjects: number;
  readonly seconds: number;
  readonly deliveredPerSec: number;
  readonly lost: number;
  readonly expected: number;
  readonly groupsPerSec: number;
  /** CPU µs per delivered object: this process, the relay process, both. */
  readonly benchCpuUs: number;
  readonly relayCpuUs: number | undefined;
  readonly totalCpuUs: number;
  /** Share of one core the relay process used. */
  readonly relayCores: number | undefined;
  /** Subscriptions refused or timed out, and subscriber sessions that ended mid-run. */
  readonly failedSubscriptions: number;
  readonly brokenSessions: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly profile?: ProfileSummary;
}

interface RunOptions {
  readonly cert: TlsCertificate;
  readonly certDir: string;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly groupObjects: number;
  readonly profile?: boolean;
}

async function run(scenario: Scenario, mode: Mode, options: RunOptions): Promise<Result> {
  const { cert, certDir, warmupMs, measureMs } = options;
  const groupObjects = scenario.groupObjects ?? options.groupObjects;
  await using server = mode === "direct"
    ? startDirect(cert)
    : mode === "relay"
    ? startRelayHere(cert)
    : await startRelayProcess(certDir, cert, options.profile ?? false);
  const infos = Array.from({ length: scenario.tracks }, (_, i): TrackInfo => ({
    namespace: ["bench", `call${i}`],
    name: "uplink",
    capability: "voice/opus",
  }));
  const producers = await server.publish(infos, scenario.pubConnections);
  const subscribers: MoqClient[] = [];
  for (let i = 0; i < scenario.subConnections; i++) {
    subscribers.push(await connect(server.port, cert));
  }
  const receipts = new Receipts();
  const consumers: TrackConsumer[] = [];
  const subscriptions: Promise<void>[] = [];
  let n = 0;
  let failedSubscriptions = 0;
  for (const info of infos) {
    for (let k = 0; k < scenario.subscribersPerTrack; k++) {
      const client = subscribers[n++ % subscribers.length];
      subscriptions.push(
        client.subscribe(info.namespace, info.name).then((consumer) => {
          consumers.push(consumer);
          readTrack(consumer, receipts).catch(() => {});
        }, () => void failedSubscriptions++),
      );
    }
  }
  await Promise.all(subscriptions);
  // Everyone subscribes before the first object, so setup is never measured under load.
  const pacer = new Pacer(producers, groupObjects);
  pacer.start();
  await delay(warmupMs);

  const profiler = options.profile && server.inspector
    ? await startCpuProfile(server.inspector)
    : undefined;
  const t0 = performance.now();
  pacer.windowStart = receipts.windowStart = t0;
  pacer.windowEnd = receipts.windowEnd = t0 + measureMs;
  const groups0 = receipts.groups;
  const cpu0 = selfCpuUs();
  const relayCpu0 = server.pid ? procCpuUs(server.pid) : 0;
  await delay(measureMs);
  const cpu1 = selfCpuUs();
  const relayCpu1 = server.pid ? procCpuUs(server.pid) : 0;
  const seconds = (performance.now() - t0) / 1000;
  const groupsInWindow = receipts.groups - groups0;
  const profile = await profiler?.stop();
  await delay(500); // objects of the window still in flight
  await pacer.stop();
  const brokenSessions = subscribers.filter((c) => c.session.state === "closed").length;
  for (const consumer of consumers) consumer.close();
  for (const client of subscribers) client.close();

  const expected = pacer.sentInWindow * scenario.subscribersPerTrack;
  const delivered = receipts.received;
  const per = (us: number) => us / Math.max(1, delivered);
  const relayUs = server.pid ? relayCpu1 - relayCpu0 : undefined;
  return {
    scenario: scenario.name,
    mode,
    groupObjects,
    seconds,
    deliveredPerSec: delivered / seconds,
    lost: expected - delivered,
    expected,
    groupsPerSec: groupsInWindow / seconds,
    benchCpuUs: per(cpu1 - cpu0),
    relayCpuUs: relayUs === undefined ? undefined : per(relayUs),
    totalCpuUs: per(cpu1 - cpu0 + (relayUs ?? 0)),
    relayCores: relayUs === undefined ? undefined : relayUs / 1e6 / seconds,
    failedSubscriptions,
    brokenSessions,
    p50: receipts.percentile(0.5),
    p99: receipts.percentile(0.99),
    max: receipts.percentile(1),
    profile,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Report --------------------------------------------------------------------------------

const f = (x: number | undefined, digits = 1) =>
  x === undefined || isNaN(x) ? "—" : x.toFixed(digits);

function table(results: Result[]): string {
  const rows = [
    "| scenario | mode | delivered obj/s | lost | CPU µs/obj (total) | × direct | relay µs/obj | relay obj/s per core | p50 ms | p99 ms | + p50 | + p99 |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of results) {
    const direct = results.find((d) => d.scenario === r.scenario && d.mode === "direct");
    const perCore = r.relayCores ? r.deliveredPerSec / r.relayCores : undefined;
    const added = (x: number, base: number | undefined) =>
      r.mode === "direct" || base === undefined
        ? ""
        : `${x - base >= 0 ? "+" : ""}${f(x - base, 2)}`;
    rows.push(
      `| ${r.scenario} | ${r.mode} | ${f(r.deliveredPerSec, 0)} | ${r.lost} / ${r.expected} | ${
        f(r.totalCpuUs)
      } | ${direct ? f(r.totalCpuUs / direct.totalCpuUs, 2) : "—"} | ${f(r.relayCpuUs)} | ${
        perCore === undefined ? "" : f(perCore, 0)
      } | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${added(r.p50, direct?.p50)} | ${
        added(r.p99, direct?.p99)
      } |`,
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
      profile: { type: "boolean" },
      "group-objects": { type: "string", default: String(FRAMES_PER_GROUP) },
      modes: { type: "string" },
      only: { type: "string" },
      json: { type: "string" },
    },
  });
  const quick = values.quick;
  const groupObjects = Number(values["group-objects"]);
  const modes = (values.modes ?? (quick ? "direct,relay-proc" : "direct,relay,relay-proc"))
    .split(",") as Mode[];
  const only = values.only?.split(",");
  const scenarios = SCENARIOS.filter((s) =>
    only ? only.includes(s.name) : !(quick && (s.groupObjects !== undefined || s.tracks > 100))
  );
  const certDir = await Deno.makeTempDir({ prefix: "clutchcall-bench-cert-" });
  const cert = await loadOrCreateDevCertificate({ dataDir: certDir });
  const options: RunOptions = {
    cert,
    certDir,
    warmupMs: quick ? 500 : 1500,
    measureMs: quick ? 2000 : 8000,
    groupObjects,
  };
  console.log(
    `Relay bench: ${PAYLOAD_BYTES}-byte objects every ${OBJECT_MS} ms, ${groupObjects} objects ` +
      `per group unless noted, ${
        options.measureMs / 1000
      } s window, ${navigator.hardwareConcurrency} cores`,
  );
  const results: Result[] = [];
  for (const scenario of scenarios) {
    for (const mode of modes) {
      const result = await run(scenario, mode, options);
      results.push(result);
      console.log(
        `${scenario.name.padEnd(26)} ${mode.padEnd(10)} ${
          f(result.deliveredPerSec, 0).padStart(7)
        } obj/s` +
          `  lost ${result.lost}/${result.expected}  cpu ${f(result.totalCpuUs)} µs/obj` +
          `  relay ${f(result.relayCpuUs)} µs/obj (${f((result.relayCores ?? 0) * 100, 0)}% core)` +
          `  p50 ${f(result.p50, 2)} p99 ${f(result.p99, 2)} max ${f(result.max, 1)} ms` +
          `  groups ${f(result.groupsPerSec, 0)}/s` +
          (result.failedSubscriptions || result.brokenSessions
            ? `  FAILED subscriptions ${result.failedSubscriptions}, sessions ${result.brokenSessions}`
            : ""),
      );
    }
  }
  console.log("\n" + table(results));

  if (values.profile ?? !quick) {
    const scenario = SCENARIOS.find((s) => s.name === "1000 tracks")!;
    const profiled = await run(scenario, "relay-proc", { ...options, profile: true });
    console.log(
      `\n1000 tracks, relay-proc under the profiler: ${f(profiled.relayCpuUs)} µs/obj, ` +
        `p99 ${f(profiled.p99, 2)} ms`,
    );
    if (profiled.profile) console.log(profileReport(profiled.profile));
  }
  if (values.json) {
    await Deno.writeTextFile(values.json, JSON.stringify(results, null, 2));
  }
  await Deno.remove(certDir, { recursive: true });
}

if (import.meta.main) await main();
