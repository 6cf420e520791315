/**
 * One load-generator process for `bench/relay_bench.ts`: it publishes a slice of the bench's
 * voice tracks (one 160-byte object every 20 ms each) and subscribes to a slice, so that the
 * load is spread over several processes and the relay (in its own process) is what is measured.
 *
 * Track `t` is published by generator `t % gens`; subscriber `k` of track `t` lives in
 * generator `(t + k) % gens`. In `direct` mode every generator is a server: its tracks live in
 * an {@linkcode Origin} served by draft-14 server sessions on its own port, and subscribers
 * connect to the owner's port (one QUIC hop, the baseline). In `relay` mode publishers PUBLISH
 * to the relay and subscribers subscribe through it (two hops).
 *
 * Timestamps are absolute (`performance.timeOrigin + performance.now()`, ms) in the first 8
 * bytes of each payload, so a subscriber in another generator measures one-way latency.
 *
 * Protocol with the bench: one JSON line per message. The generator prints `{"port":N}` (0 in
 * relay mode) once its tracks are published; the bench then writes
 * `{"cmd":"subscribe","ports":[...],"relayPort":P}` (→ `{"subscribed":n,"failed":f}`),
 * `{"cmd":"start","t0":ms,"t1":ms}` (pacing starts; objects stamped inside [t0, t1) are counted),
 * `{"cmd":"report"}` (→ the counts and latencies) and `{"cmd":"exit"}`.
 *
 * Run by the bench: `deno run -A --unstable-net bench/relay_load.ts <json options>`.
 *
 * @module
 */
import { listenMoq } from "../src/relay/transport/mod.ts";
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

/** What the bench tells one generator. */
export interface LoadOptions {
  readonly index: number;
  readonly gens: number;
  readonly mode: "direct" | "relay";
  readonly certDir: string;
  readonly relayPort: number;
  /**
   * Relay mode with shards: each shard's port (track t's call is on shard t mod shards). Its
   * publisher connects there; its subscribers too, or to the next shard with `cross`.
   */
  readonly shardPorts?: readonly number[];
  /** Subscribe on the shard after the track's own (every object crosses shards once). */
  readonly cross?: boolean;
  readonly tracks: number;
  readonly subscribersPerTrack: number;
  /** Connections this generator uses to publish (relay mode) and to subscribe. */
  readonly pubConnections: number;
  readonly subConnections: number;
  readonly groupObjects: number;
  /** Ask for the datagram lane on every track (when the relay offers it). */
  readonly datagrams?: boolean;
}

/** What a generator reports at the end. */
export interface LoadReport {
  readonly sent: number;
  readonly received: number;
  readonly groups: number;
  readonly latencies: number[];
  readonly brokenSessions: number;
}

const OBJECT_MS = 20;
const PAYLOAD_BYTES = 160;
const encoder = new TextEncoder();
const log = createLogger({
  level: (Deno.env.get("BENCH_LOG") ?? "error") as "error",
  json: true,
  sink: (line) => Deno.stderr.writeSync(encoder.encode(line + "\n")),
});

const now = () => performance.timeOrigin + performance.now();

function say(message: unknown): void {
  Deno.stdout.writeSync(encoder.encode(JSON.stringify(message) + "\n"));
}

let datagrams = false;

function trackInfo(t: number): TrackInfo {
  // A call's namespace (voice/<sid>): what relay shards place and route.
  return { namespace: ["voice", `call${t}`], name: "uplink", capability: "voice/opus", datagrams };
}

/**
 * Writes one object per track every 20 ms, tracks spread evenly over the 20 ms (one slot a
 * millisecond), as independent calls would be.
 */
class Pacer {
  readonly #producers: TrackProducer[];
  readonly #groupObjects: number;
  readonly #groups: (GroupProducer | undefined)[];
  readonly #nextId: number[];
  readonly #slots: number[][] = Array.from({ length: OBJECT_MS }, () => []);
  readonly #stamp = new Float64Array(1);
  readonly #stampBytes = new Uint8Array(this.#stamp.buffer);
  t0 = Infinity;
  t1 = Infinity;
  sent = 0;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(producers: TrackProducer[], groupObjects: number, phase: number) {
    this.#producers = producers;
    this.#groupObjects = groupObjects;
    this.#groups = producers.map(() => undefined);
    this.#nextId = producers.map(() => 0);
    producers.forEach((_, i) =>
      this.#slots[(Math.floor((i * OBJECT_MS) / producers.length) + phase) % OBJECT_MS].push(i)
    );
  }

  start(): void {
    const start = performance.now();
    let slot = 0;
    const tick = () => {
      if (this.#stopped) return;
      const t = performance.now();
      while (start + slot <= t) {
        for (const i of this.#slots[slot % OBJECT_MS]) this.#emit(i);
        slot++;
      }
      // Sleep through empty slots: a lone track wakes the loop every 20 ms, not every 1 ms.
      for (let n = 0; n < OBJECT_MS && this.#slots[slot % OBJECT_MS].length === 0; n++) slot++;
      this.#timer = setTimeout(tick, Math.max(0, start + slot - performance.now()));
    };
    tick();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const group of this.#groups) group?.close();
  }

  #emit(i: number): void {
    let group = this.#groups[i];
    if (!group || this.#nextId[i] === this.#groupObjects) {
      group?.close();
      group = this.#groups[i] = this.#producers[i].appendGroup();
      this.#nextId[i] = 0;
    }
    const payload = new Uint8Array(PAYLOAD_BYTES);
    const t = now();
    this.#stamp[0] = t;
    payload.set(this.#stampBytes);
    group.write({ id: this.#nextId[i]++, payload });
    if (t >= this.t0 && t < this.t1) this.sent++;
  }
}

/** What this generator's subscribers saw of objects stamped inside the window. */
class Receipts {
  readonly latencies: number[] = [];
  received = 0;
  groups = 0;
  t0 = Infinity;
  t1 = Infinity;
  readonly #stamp = new Float64Array(1);
  readonly #stampBytes = new Uint8Array(this.#stamp.buffer);

  record(payload: Uint8Array): void {
    const t = now();
    this.#stampBytes.set(payload.subarray(0, 8));
    const sent = this.#stamp[0];
    if (sent < this.t0 || sent >= this.t1) return;
    this.received++;
    this.latencies.push(Math.round((t - sent) * 1000) / 1000);
  }
}

async function readGroup(group: GroupConsumer, receipts: Receipts): Promise<void> {
  for (let object; (object = await group.readObject());) receipts.record(object.payload);
}

async function readTrack(consumer: TrackConsumer, receipts: Receipts): Promise<void> {
  for (let group; (group = await consumer.nextGroup());) {
    receipts.groups++;
    readGroup(group, receipts).catch((error) => log.debug("Group ended", { error }));
  }
}

function connect(port: number, cert: TlsCertificate): Promise<MoqClient> {
  return MoqClient.connect({ hostname: "127.0.0.1", port, caCerts: [cert.certPem], log });
}

async function main(options: LoadOptions): Promise<void> {
  const { index, gens, mode, tracks, subscribersPerTrack } = options;
  datagrams = options.datagrams ?? false;
  const cert = await loadOrCreateDevCertificate({ dataDir: options.certDir });
  const mine = Array.from({ length: tracks }, (_, t) => t).filter((t) => t % gens === index);
  const closers: (() => void)[] = [];
  let producers: TrackProducer[];
  let port = 0;
  if (mode === "direct") {
    const origin = new Origin({ subscribeTimeoutMs: 10_000 });
    const endpoint = listenMoq({
      hostname: "127.0.0.1",
      port: 0,
      cert: cert.certPem,
      key: cert.keyPem,
    });
    port = endpoint.addr.port;
    const sessions: Session[] = [];
    (async () => {
      for await (const transport of endpoint) {
        sessions.push(new Session(transport, { role: "server", origin, log }));
      }
    })();
    closers.push(() => {
      for (const session of sessions) session.close();
      endpoint.close();
    });
    producers = mine.map((t) => origin.publishTrack(trackInfo(t)));
  } else {
    // One set of publishing connections per relay port (one port unless sharded).
    const relayPorts = options.shardPorts ?? [options.relayPort];
    const n = Math.max(
      1,
      Math.min(Math.ceil(options.pubConnections / relayPorts.length), mine.length),
    );
    const clients = new Map<number, MoqClient[]>();
    for (const port of new Set(mine.map((t) => relayPorts[t % relayPorts.length]))) {
      const list: MoqClient[] = [];
      for (let i = 0; i < n; i++) list.push(await connect(port, cert));
      clients.set(port, list);
    }
    closers.push(() => [...clients.values()].flat().forEach((c) => c.close()));
    producers = await Promise.all(
      mine.map((t, i) =>
        clients.get(relayPorts[t % relayPorts.length])![i % n].publish(trackInfo(t))
      ),
    );
  }
  say({ port });

  const receipts = new Receipts();
  const pacer = new Pacer(producers, options.groupObjects, index);
  const subscribers: MoqClient[] = [];
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await lines.read();
    if (done) break;
    text += value;
    let at;
    while ((at = text.indexOf("\n")) >= 0) {
      const cmd = JSON.parse(text.slice(0, at));
      text = text.slice(at + 1);
      if (cmd.cmd === "subscribe") {
        // Which (track, k) pairs this generator subscribes, and to which port.
        const wanted: { t: number; port: number }[] = [];
        for (let t = 0; t < tracks; t++) {
          for (let k = 0; k < subscribersPerTrack; k++) {
            if ((t + k) % gens !== index) continue;
            const shardPorts = options.shardPorts;
            const relayPort = shardPorts
              ? shardPorts[(t + (options.cross ? 1 : 0)) % shardPorts.length]
              : cmd.relayPort;
            wanted.push({ t, port: mode === "direct" ? cmd.ports[t % gens] : relayPort });
          }
        }
        const byPort = new Map<number, MoqClient[]>();
        const portCount = new Set(wanted.map((w) => w.port)).size;
        const perPort = Math.max(1, Math.ceil(options.subConnections / gens / portCount));
        for (const { port } of wanted) {
          if (byPort.has(port)) continue;
          const list: MoqClient[] = [];
          for (let i = 0; i < Math.min(perPort, wanted.length); i++) {
            list.push(await connect(port, cert));
          }
          subscribers.push(...list);
          byPort.set(port, list);
        }
        let failed = 0;
        let n = 0;
        await Promise.all(wanted.map(({ t, port }) => {
          const list = byPort.get(port)!;
          const info = trackInfo(t);
          return list[n++ % list.length].subscribe(info.namespace, info.name, { datagrams }).then(
            (consumer) => {
              readTrack(consumer, receipts).catch((error) => log.debug("Track ended", { error }));
            },
            () => void failed++,
          );
        }));
        say({ subscribed: wanted.length - failed, failed });
      } else if (cmd.cmd === "start") {
        pacer.t0 = receipts.t0 = cmd.t0;
        pacer.t1 = receipts.t1 = cmd.t1;
        pacer.start();
        say({ started: true });
      } else if (cmd.cmd === "report") {
        pacer.stop();
        const report: LoadReport = {
          sent: pacer.sent * subscribersPerTrack,
          received: receipts.received,
          groups: receipts.groups,
          latencies: receipts.latencies,
          brokenSessions: subscribers.filter((c) => c.session.state === "closed").length,
        };
        say(report);
      } else if (cmd.cmd === "exit") {
        for (const client of subscribers) client.close();
        for (const close of closers) close();
        Deno.exit(0);
      }
    }
  }
  Deno.exit(0);
}

if (import.meta.main) await main(JSON.parse(Deno.args[0]) as LoadOptions);
