/**
 * RTP leg costs on the pure-Deno UDP path (`deno run -A --unstable-net bench/rtp_bench.ts`):
 *
 * 1. send: `RtpSession.sendAudio` per packet (serialize + ordered UDP send);
 * 2. receive + publish: per packet through a session and an `RtpLeg` into an in-process
 *    origin with one uplink subscriber, minus the cost of generating the packets;
 * 3. concurrent legs: N legs with live 50 pps uplink each, process CPU as % of one core,
 *    against a no-op baseline (the same traffic into N sockets that only read).
 *
 * CPU comes from `process.cpuUsage()` (user + system of the whole process).
 *
 * @module
 */
import process from "node:process";
import { encodeUlaw } from "../src/codecs/g711.ts";
import { Origin } from "../src/relay/model/mod.ts";
import { RtpLeg, type RtpPayloadMap, RtpSession, serializeRtp } from "../src/rtp/mod.ts";

const PCMU: RtpPayloadMap = { audio: { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 } };
const RANGE = { min: 40000, max: 49999 };
const quick = Deno.args.includes("--quick");
const legCounts = quick ? [50, 100] : [50, 100, 200, 400];
const SECONDS = quick ? 3 : 6;
const HOST = "127.0.0.1";
const payload = encodeUlaw(new Int16Array(160).map((_, i) => Math.round(8000 * Math.sin(i / 3))));

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One socket sending packet `seq` to each port every 20 ms, for `seconds`. */
async function drive(ports: number[], seconds: number): Promise<number> {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 });
  const packets = ports.map(() => 0);
  const start = performance.now();
  let sent = 0;
  for (let tick = 0; tick < seconds * 50; tick++) {
    for (let i = 0; i < ports.length; i++) {
      const seq = packets[i]++;
      const bytes = serializeRtp({
        marker: seq === 0,
        payloadType: 0,
        sequenceNumber: seq & 0xffff,
        timestamp: seq * 160,
        ssrc: 1000 + i,
        payload,
      });
      conn.send(bytes, { transport: "udp", hostname: HOST, port: ports[i] }).catch(() => {});
      sent++;
    }
    const wait = start + (tick + 1) * 20 - performance.now();
    if (wait > 0) await delay(wait);
  }
  conn.close();
  return sent;
}

async function sendCost(): Promise<number> {
  const sink = Deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 });
  const port = (sink.addr as Deno.NetAddr).port;
  const draining = (async () => {
    try {
      for (;;) await sink.receive();
    } catch { /* closed */ }
  })();
  await using session = await RtpSession.open({
    hostname: HOST,
    portRange: RANGE,
    payloads: PCMU,
    remote: { hostname: HOST, port },
  });
  const n = 20000;
  const cpu0 = cpuMicros();
  for (let i = 0; i < n; i++) {
    session.sendAudio(payload, 160);
    if (i % 100 === 99) await delay(0);
  }
  await delay(50);
  const per = (cpuMicros() - cpu0) / n;
  sink.close();
  await draining;
  return per;
}

async function legsRun(
  n: number,
  withLegs: boolean,
): Promise<{ cpuPct: number; published: number; sent: number }> {
  const origin = new Origin();
  const closers: (() => Promise<void> | void)[] = [];
  const ports: number[] = [];
  let published = 0;
  for (let i = 0; i < n; i++) {
    if (withLegs) {
      const session = await RtpSession.open({ hostname: HOST, portRange: RANGE, payloads: PCMU });
      const leg = await RtpLeg.start({ origin, sid: `CA${i}`, session });
      const uplink = await origin.subscribe(["voice", `CA${i}`], "uplink");
      (async () => {
        for (let g = await uplink.nextGroup(); g; g = await uplink.nextGroup()) {
          for (let o = await g.readObject(); o; o = await g.readObject()) published++;
        }
      })();
      ports.push(session.localPort);
      closers.push(() => leg.stop());
    } else {
      const sink = Deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 });
      (async () => {
        try {
          for (;;) await sink.receive();
        } catch { /* closed */ }
      })();
      ports.push((sink.addr as Deno.NetAddr).port);
      closers.push(() => sink.close());
    }
  }
  await delay(200);
  const cpu0 = cpuMicros();
  const t0 = performance.now();
  const sent = await drive(ports, SECONDS);
  const cpuPct = ((cpuMicros() - cpu0) / ((performance.now() - t0) * 1000)) * 100;
  await delay(100);
  for (const close of closers) await close();
  return { cpuPct, published, sent };
}

const send = await sendCost();
console.log(`send: ${send.toFixed(2)} µs CPU per packet (sendAudio: serialize + ordered UDP send)`);
console.log(
  "| legs | pps in | no-op CPU % | legs CPU % | leg cost % | µs per packet (recv+publish) | published |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const n of legCounts) {
  const base = await legsRun(n, false);
  const legs = await legsRun(n, true);
  const extra = legs.cpuPct - base.cpuPct;
  const perPacket = (extra / 100) * 1e6 / (n * 50);
  console.log(
    `| ${n} | ${n * 50} | ${base.cpuPct.toFixed(1)} | ${legs.cpuPct.toFixed(1)} | ${
      extra.toFixed(1)
    } | ${perPacket.toFixed(1)} | ${legs.published}/${legs.sent} |`,
  );
}
