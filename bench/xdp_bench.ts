/**
 * Packets per second per core "into JS and back out", and the latency added per packet, for
 * the RTP engines side by side in one run: Deno UDP (`Deno.listenDatagram`, the `deno`
 * engine's socket), io_uring and AF_XDP (ffi/, through the RX/TX rings and a JS echo loop,
 * tests/_lib/native_echo.ts). Each engine gets a fresh veth pair; the sender is
 * bench/xdp/udp_blast.c in the peer namespace (C, sendmmsg/recvmmsg, so it is not the limit),
 * 172-byte G.711 RTP packets.
 *
 * - throughput: `window` packets in flight for `seconds`; pps = echoes received per wall
 *   second; pps/core = echoes per CPU-second this process spent (all its threads: the JS
 *   thread and the shard threads, from /proc/self/stat), which is the figure that does not
 *   depend on how much CPU the sender takes from the same 2 cores.
 * - latency: one packet in flight; RTT p50/p99 measured by the sender. "added" = minus the RTT
 *   of a kernel-only C echo (udp_blast echo) over the same kind of veth pair.
 *
 * Run as root: `deno run -A --unstable-net bench/xdp_bench.ts [seconds=5] [window=256]`.
 *
 * @module
 */
import { vethPair } from "../tests/_lib/netns.ts";
import { type EngineKind, openEchoEngine } from "../tests/_lib/native_echo.ts";

const seconds = Number(Deno.args[0] ?? "5");
const window = Number(Deno.args[1] ?? "256");
const BLAST_SRC = new URL("./xdp/udp_blast.c", import.meta.url).pathname;

interface Blast {
  sent: number;
  received: number;
  seconds: number;
  rttP50Us: number;
  rttP99Us: number;
}

interface Cpu {
  total: number;
  /** The native shard threads (named cc-<engine>-<n>): user and kernel time. */
  shardUser: number;
  shardSys: number;
}

function cpuNow(): Cpu {
  // utime + stime (fields 14 and 15, after the parenthesised name), USER_HZ = 100, per thread.
  const cpu = { total: 0, shardUser: 0, shardSys: 0 };
  for (const task of Deno.readDirSync("/proc/self/task")) {
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/self/task/${task.name}/stat`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue; // the thread ended meanwhile
      throw error;
    }
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const user = Number(fields[11]) / 100, sys = Number(fields[12]) / 100;
    cpu.total += user + sys;
    if (name.startsWith("cc-")) {
      cpu.shardUser += user;
      cpu.shardSys += sys;
    }
  }
  return cpu;
}

async function buildBlast(): Promise<string> {
  const bin = await Deno.makeTempFile({ prefix: "udp_blast-" });
  const r = await new Deno.Command("gcc", { args: ["-O2", "-o", bin, BLAST_SRC] }).output();
  if (!r.success) throw new Error(`Cannot build udp_blast: ${new TextDecoder().decode(r.stderr)}`);
  return bin;
}

async function blast(
  pair: Awaited<ReturnType<typeof vethPair>>,
  bin: string,
  port: number,
  secs: number,
  win: number,
): Promise<Blast> {
  const out = await pair.spawnInPeer(bin, [
    "blast",
    pair.localIp,
    String(port),
    String(secs),
    String(win),
  ])
    .output();
  if (!out.success) throw new Error(`udp_blast failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim());
}

interface Row {
  engine: string;
  pps: number;
  cpu: number;
  ppsPerCore: number;
  /** Shard threads' user and kernel CPU seconds. */
  shardUser: number;
  shardSys: number;
  lossPct: number;
  p50: number;
  p99: number;
}

type Server = AsyncDisposable & { port: number };

function denoEcho(host: string): Server {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: host, port: 0 });
  let open = true;
  const loop = (async () => {
    try {
      while (open) {
        const [bytes, from] = await socket.receive();
        await socket.send(bytes, from);
      }
    } catch (error) {
      if (open) throw error; // closed while receiving: the end of the run
    }
  })();
  return {
    port: (socket.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose]() {
      open = false;
      socket.close();
      await loop;
    },
  };
}

async function measure(engine: "deno" | EngineKind | "kernel", bin: string): Promise<Row> {
  await using pair = await vethPair();
  let server: Server;
  let kernelEcho: Deno.ChildProcess | undefined;
  if (engine === "deno") server = denoEcho(pair.localIp);
  else if (engine === "kernel") {
    const port = 40000;
    kernelEcho = new Deno.Command(bin, {
      args: ["echo", pair.localIp, String(port), String(seconds + 4)],
      stdout: "null",
    }).spawn();
    // Signal that the echo socket is bound: the first packet of a 1-packet blast comes back.
    for (let i = 0; i < 50; i++) {
      const probe = await blast(pair, bin, port, 0.05, 1);
      if (probe.received > 0) break;
    }
    server = { port, [Symbol.asyncDispose]: async () => {} };
  } else {
    server = openEchoEngine({
      kind: engine,
      ifname: engine === "xdp" ? pair.local : undefined,
      host: pair.localIp,
      portMin: 30000,
      portMax: 30100,
    });
  }
  try {
    await blast(pair, bin, server.port, 0.5, window); // warm-up: ARP, JIT, neighbour cache
    const cpu0 = cpuNow();
    const t = await blast(pair, bin, server.port, seconds, window);
    const cpu1 = cpuNow();
    const cpu = cpu1.total - cpu0.total;
    const l = await blast(pair, bin, server.port, Math.min(seconds, 3), 1);
    return {
      engine,
      pps: t.received / t.seconds,
      cpu,
      ppsPerCore: engine === "kernel" ? NaN : t.received / cpu,
      shardUser: cpu1.shardUser - cpu0.shardUser,
      shardSys: cpu1.shardSys - cpu0.shardSys,
      lossPct: (100 * (t.sent - t.received)) / t.sent,
      p50: l.rttP50Us,
      p99: l.rttP99Us,
    };
  } finally {
    await server[Symbol.asyncDispose]();
    if (kernelEcho) {
      kernelEcho.kill();
      await kernelEcho.status;
    }
  }
}

const load0 = Deno.loadavg();
const bin = await buildBlast();
const rows: Row[] = [];
for (const engine of ["kernel", "deno", "io_uring", "xdp"] as const) {
  rows.push(await measure(engine, bin));
}
await Deno.remove(bin);
const load1 = Deno.loadavg();
const base = rows.find((r) => r.engine === "kernel")!;
const deno = rows.find((r) => r.engine === "deno")!;
const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "—");
console.log(
  `seconds=${seconds} window=${window} loadavg before ${load0.map((x) => x.toFixed(2)).join(" ")}` +
    `, after ${load1.map((x) => x.toFixed(2)).join(" ")}`,
);
console.log(
  "| engine | echoes/s (wall) | CPU s | echoes per CPU-second | × deno | shard user / sys s | loss % | RTT p50 µs | RTT p99 µs | added p50 / p99 µs |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${r.engine} | ${fmt(r.pps)} | ${fmt(r.cpu, 2)} | ${fmt(r.ppsPerCore)} | ${
      fmt(r.ppsPerCore / deno.ppsPerCore, 1)
    } | ${fmt(r.shardUser, 2)} / ${fmt(r.shardSys, 2)} | ${fmt(r.lossPct, 2)} | ${
      fmt(r.p50, 1)
    } | ${fmt(r.p99, 1)} | ${
      r.engine === "kernel" ? "—" : `${fmt(r.p50 - base.p50, 1)} / ${fmt(r.p99 - base.p99, 1)}`
    } |`,
  );
}
