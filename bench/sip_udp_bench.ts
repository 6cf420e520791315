/**
 * CPU per received SIP datagram, old transport vs new, in one run
 * (`deno run -A --unstable-net bench/sip_udp_bench.ts [--rate=4000] [--count=40000]`).
 *
 * Each variant runs in its own child process (so the sender's CPU is not counted) that binds
 * a socket, prints its port, counts datagrams and, on an `END` datagram, prints the CPU its
 * whole process spent (`process.cpuUsage()`, user + system) since the first datagram. The
 * parent floods each child with the same datagrams at the same paced rate (the flood
 * was 130,000 in 30 s ≈ 4,300/s): half random junk, half mutated SIP (an OPTIONS with bytes
 * flipped), the mix a fuzzer sends.
 *
 * Variants:
 * - `node-dgram`: the old `src/sip/udp_transport.ts` receive path (a `node:dgram` socket,
 *   4 MiB receive buffer, one `message` event per datagram), handing each datagram to a
 *   receiver that only counts it;
 * - `deno-udp`: the new `listenSipUdp` (`Deno.listenDatagram`, reused receive buffer) with
 *   the same counting receiver;
 * - `endpoint-node-dgram` / `endpoint-deno-udp`: the whole SIP endpoint's receive path (UTF-8
 *   decode, first-line check, sip.js parse) on each transport; the new one with its
 *   pre-parse admission (non-SIP rejected unread, a per-source budget of malformed
 *   datagrams); `endpoint-deno-udp-unbudgeted` is the same with the budget lifted, to show
 *   what the budget saves on top of the cheaper socket.
 *
 * @module
 */
import dgram from "node:dgram";
import process from "node:process";
import { Core } from "sip.js";
import { listenSipUdp } from "../src/sip/udp_transport.ts";
import type { SipReceiver } from "../src/sip/transport.ts";

const arg = (name: string, fallback: number) =>
  Number(Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const child = Deno.args.find((a) => a.startsWith("--child="))?.split("=")[1];
const VARIANTS = [
  "node-dgram",
  "deno-udp",
  "endpoint-node-dgram",
  "endpoint-deno-udp",
  "endpoint-deno-udp-unbudgeted",
];
const END = new TextEncoder().encode("END");

const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** The old transport's receive path, as it was before the move (node:dgram). */
async function nodeDgram(receive: SipReceiver): Promise<number> {
  const socket = dgram.createSocket({ type: "udp4", recvBufferSize: 4 << 20 });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  socket.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
    if (msg.length > 8192) return;
    receive(msg, { transport: "udp", host: rinfo.address, port: rinfo.port });
  });
  return socket.address().port;
}

/** The endpoint's receive path (as `src/sip/endpoint.ts` runs it) minus routing. */
function endpointReceiver(): SipReceiver {
  const factory = new Core.LoggerFactory();
  factory.builtinEnabled = false;
  factory.level = Core.Levels.error;
  const logger = factory.getLogger("sip.parser");
  const decoder = new TextDecoder("utf-8", { fatal: false });
  const FIRST_LINE = /^(?:[A-Z]{3,16} \S{1,1024} SIP\/2\.0|SIP\/2\.0 [1-6]\d\d [^\r\n]{0,256})\r\n/;
  return (bytes) => {
    const text = decoder.decode(bytes);
    if (!FIRST_LINE.test(text.slice(0, 1300))) return false;
    let message;
    try {
      message = Core.Parser.parseMessage(text, logger);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      return false; // sip.js throws on some malformed input: a malformed datagram
    }
    return Boolean(message?.callId && message.from && message.to && message.cseq);
  };
}

async function runChild(variant: string): Promise<void> {
  let count = 0;
  let start = 0;
  const done = Promise.withResolvers<void>();
  const inner = variant.startsWith("endpoint") ? endpointReceiver() : () => true;
  const receive: SipReceiver = (bytes, from) => {
    if (bytes.length === 3 && bytes[0] === 0x45 && bytes[1] === 0x4e && bytes[2] === 0x44) {
      done.resolve();
      return true;
    }
    if (count++ === 0) start = cpu();
    return inner(bytes, from);
  };
  let port: number;
  let close = () => Promise.resolve();
  if (variant.endsWith("node-dgram")) port = await nodeDgram(receive);
  else {
    // The END marker must pass the new transport's pre-parse check: it is sent as an
    // "OPTIONS … SIP/2.0" line carrying END in the receiver's own check below.
    const socket = await listenSipUdp({
      host: "127.0.0.1",
      port: 0,
      maxBytes: 8192,
      ...(variant.endsWith("unbudgeted")
        ? { budget: { perSourcePerSecond: 1e9, perSourceBurst: 1e9, totalPerSecond: 1e9 } }
        : {}),
      receive: (bytes, from) => {
        if (new TextDecoder().decode(bytes.subarray(0, 11)) === "END END SIP") {
          done.resolve();
          return true;
        }
        return receive(bytes, from);
      },
      // Datagrams the admission dropped unread were received too: count them.
      onDrop: () => {
        if (count++ === 0) start = cpu();
      },
    });
    port = socket.port;
    close = () => socket.close();
  }
  console.log(`port ${port}`);
  await done.promise;
  const spent = cpu() - start;
  console.log(JSON.stringify({ variant, received: count, cpuUs: spent }));
  await close();
  Deno.exit(0);
}

function datagrams(n: number): Uint8Array[] {
  const options = new TextEncoder().encode(
    "OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK1\r\n" +
      "From: <sip:a@127.0.0.2>;tag=1\r\nTo: <sip:probe@127.0.0.1>\r\nCall-ID: x@y\r\n" +
      "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
  );
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) out.push(crypto.getRandomValues(new Uint8Array(200 + (i % 800))));
    else {
      const m = options.slice();
      // Flip a few bytes after the first line: the shape a mutation fuzzer sends.
      for (let k = 0; k < 4; k++) m[40 + ((i * 7919 + k * 104729) % (m.length - 40))] ^= 0x5a;
      out.push(m);
    }
  }
  return out;
}

async function flood(port: number, payloads: Uint8Array[], rate: number): Promise<void> {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.2", port: 0 });
  const to = { transport: "udp" as const, hostname: "127.0.0.1", port };
  const start = performance.now();
  const perMs = rate / 1000;
  let sent = 0;
  while (sent < payloads.length) {
    const due = Math.min(payloads.length, Math.floor((performance.now() - start) * perMs) + 1);
    const batch: Promise<number>[] = [];
    while (sent < due) batch.push(conn.send(payloads[sent++], to));
    await Promise.all(batch);
    await new Promise((r) => setTimeout(r, 1));
  }
  // END until the child answers (it may still be draining its queue).
  conn.close();
}

async function runVariant(variant: string, payloads: Uint8Array[], rate: number) {
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", new URL(import.meta.url).pathname, `--child=${variant}`],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        return line;
      }
      const { value, done } = await lines.read();
      if (done) throw new Error(`child ${variant} exited early`);
      buffered += value;
    }
  };
  const port = Number((await nextLine()).split(" ")[1]);
  const t0 = performance.now();
  await flood(port, payloads, rate);
  const wall = performance.now() - t0;
  const ender = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const to = { transport: "udp" as const, hostname: "127.0.0.1", port };
  let result: { variant: string; received: number; cpuUs: number } | undefined;
  const reading = nextLine().then((line) => result = JSON.parse(line));
  while (!result) {
    await ender.send(
      variant.endsWith("node-dgram") ? END : new TextEncoder().encode("END END SIP/2.0\r\n\r\n"),
      to,
    );
    await Promise.race([reading, new Promise((r) => setTimeout(r, 200))]);
  }
  ender.close();
  await proc.status;
  return { ...result, wall };
}

if (child) await runChild(child);
else {
  const rate = arg("rate", 4000);
  const count = arg("count", 40_000);
  const payloads = datagrams(count);
  console.log(`${count} datagrams at ${rate}/s per variant (half junk, half mutated SIP)`);
  const rows: Record<string, { received: number; cpuUs: number }> = {};
  for (const variant of VARIANTS) {
    const r = await runVariant(variant, payloads, rate);
    rows[variant] = r;
    console.log(
      `${variant.padEnd(30)} received ${String(r.received).padStart(6)}/${count}  ` +
        `CPU ${(r.cpuUs / 1000).toFixed(0).padStart(6)} ms  ` +
        `${(r.cpuUs / Math.max(1, r.received)).toFixed(1).padStart(7)} µs/datagram  ` +
        `(${(r.cpuUs / 10 / r.wall).toFixed(0)} % of a core)`,
    );
  }
  const per = (v: string) => rows[v].cpuUs / Math.max(1, rows[v].received);
  console.log(
    `ratio node-dgram / deno-udp: ${(per("node-dgram") / per("deno-udp")).toFixed(1)}×; ` +
      `endpoint: ${(per("endpoint-node-dgram") / per("endpoint-deno-udp")).toFixed(1)}×`,
  );
}
