/**
 * RTP engines through real sockets on loopback: the io_uring engine (native shards, SPSC
 * rings) carries RTP and RTCP both ways between a session on it and a session on the Deno
 * engine, and the choice of engine (`sip.rtpEngine` / `CLUTCH_RTP_ENGINE`) logs why.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import {
  defaultRtpEngine,
  NativeRtpEngine,
  openRtpEngine,
  type RtpEngine,
  rtpEngineUnavailable,
  RtpSession,
} from "../../src/rtp/mod.ts";
import { denoRtpEngine } from "../../src/rtp/engine/deno_engine.ts";
import { createLogger } from "../../src/log/mod.ts";
import { frames, payloads, RawPeer, TEST_PORTS } from "./_udp.ts";

const ioUring = rtpEngineUnavailable("io_uring");
const ci = Deno.env.get("CI") === "true";

Deno.test({
  name: "io_uring engine carries audio both ways, in order and intact, and RTCP BYE on close",
  ignore: ioUring !== undefined && !ci,
  async fn() {
    assertEquals(ioUring, undefined, `io_uring must work in CI: ${ioUring}`);
    await using engine = NativeRtpEngine.open("io_uring", { shards: 2 });
    await using native = await RtpSession.open({
      hostname: "127.0.0.1",
      portRange: TEST_PORTS,
      payloads,
      engine,
    });
    await using plain = await RtpSession.open({
      hostname: "127.0.0.1",
      portRange: TEST_PORTS,
      payloads,
      engine: denoRtpEngine(),
    });
    native.setRemote({ hostname: "127.0.0.1", port: plain.localPort });
    plain.setRemote({ hostname: "127.0.0.1", port: native.localPort });
    const n = 200;
    const atNative = frames(native, n);
    const atPlain = frames(plain, n);
    for (let i = 0; i < n; i++) {
      plain.sendAudio(new Uint8Array(160).fill(i & 0xff), 160);
      native.sendAudio(new Uint8Array(160).fill((i * 3) & 0xff), 160);
      // A breath now and then so the loopback socket buffers never overflow under load.
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 0));
    }
    const [inNative, inPlain] = await Promise.all([atNative, atPlain]);
    inNative.forEach((f, i) => assertEquals(f.payload[0], i & 0xff));
    inPlain.forEach((f, i) => assertEquals(f.payload[0], (i * 3) & 0xff));
    assert(inNative.every((f, i) => i === 0 || f.sequence === inNative[i - 1].sequence + 1));
    assert(native.latched && plain.latched);
    assertEquals(native.remote?.port, plain.localPort);
    const bye = Promise.withResolvers<void>();
    using _bye = plain.on("bye", () => bye.resolve());
    await native.close(); // the BYE goes out through the TX ring before the sockets close
    await bye.promise;
    const stats = engine.stats(0);
    const stats1 = engine.stats(1);
    assertEquals(stats.txErrors + stats1.txErrors, 0);
    assert(stats.rxPackets + stats1.rxPackets >= n);
  },
});

Deno.test({
  name: "an io_uring socket sends each datagram to the address it is given, host by host",
  ignore: ioUring !== undefined && !ci,
  async fn() {
    await using engine = NativeRtpEngine.open("io_uring", { shards: 1 });
    const sockets = engine.bind("127.0.0.1", TEST_PORTS, false);
    // Two peers on two loopback hosts: the socket keeps the address it parsed last, so a
    // change of host (a re-latch to another source) must reach the new one.
    const hosts = ["127.0.0.1", "127.0.0.2"];
    const peers = hosts.map((hostname) =>
      Deno.listenDatagram({ transport: "udp", hostname, port: 0 })
    );
    try {
      const order = [0, 0, 1, 1, 0, 1, 0];
      const got = peers.map((p, k) =>
        (async () => {
          const want = order.filter((o) => o === k).length;
          const bytes: number[] = [];
          while (bytes.length < want) bytes.push((await p.receive())[0][0]);
          return bytes;
        })()
      );
      order.forEach((k, i) => {
        const to = {
          transport: "udp" as const,
          hostname: hosts[k],
          port: (peers[k].addr as Deno.NetAddr).port,
        };
        assert(sockets.rtp.sendNow!(new Uint8Array([i, 0, 0, 0]), to));
      });
      const [at0, at1] = await Promise.all(got);
      assertEquals(at0, [0, 1, 4, 6]);
      assertEquals(at1, [2, 3, 5]);
    } finally {
      sockets.close();
      for (const p of peers) p.close();
    }
  },
});

Deno.test({
  name:
    "a two-shard io_uring engine steers each call's datagrams to the shard that owns it (sk_reuseport)",
  ignore: ioUring !== undefined && !ci,
  async fn() {
    const lines: string[] = [];
    const logger = createLogger({ json: true, sink: (l) => lines.push(l) });
    await using engine = NativeRtpEngine.open("io_uring", { shards: 2, logger });
    const calls = 6;
    const pairs: { native: RtpSession; plain: RtpSession }[] = [];
    try {
      for (let c = 0; c < calls; c++) {
        const native = await RtpSession.open({
          hostname: "127.0.0.1",
          portRange: TEST_PORTS,
          payloads,
          engine,
        });
        const plain = await RtpSession.open({
          hostname: "127.0.0.1",
          portRange: TEST_PORTS,
          payloads,
          engine: denoRtpEngine(),
        });
        native.setRemote({ hostname: "127.0.0.1", port: plain.localPort });
        plain.setRemote({ hostname: "127.0.0.1", port: native.localPort });
        pairs.push({ native, plain });
      }
      assertEquals(engine.steering?.active, true, engine.steering?.why);
      assert(lines.some((l) => JSON.parse(l).msg === "RTP steering: sk_reuseport"), lines.join());
      const n = 20;
      const arrived = pairs.map((p) => frames(p.native, n));
      for (let i = 0; i < n; i++) {
        for (const p of pairs) p.plain.sendAudio(new Uint8Array(160).fill(i), 160);
        await new Promise((r) => setTimeout(r, 0));
      }
      for (const got of await Promise.all(arrived)) assertEquals(got.length, n);
      const shards = [engine.stats(0), engine.stats(1)];
      // Both shards own calls, every datagram came in on its owner's socket, and the program
      // placed each one by its port entry (none left to the kernel's hash).
      assert(shards.every((s) => s.rxPackets > 0), JSON.stringify(shards));
      assertEquals(shards[0].rxStray + shards[1].rxStray, 0);
      const steered = engine.steerStats()!;
      assertEquals(steered.missed, 0);
      assert(steered.port >= calls * n, JSON.stringify(steered));
    } finally {
      for (const p of pairs) await Promise.all([p.native.close(), p.plain.close()]);
    }
  },
});

Deno.test({
  name: "io_uring steering that cannot load is logged with its reason, and calls still flow",
  ignore: ioUring !== undefined && !ci,
  async fn() {
    const lines: string[] = [];
    const logger = createLogger({ json: true, sink: (l) => lines.push(l) });
    await using engine = NativeRtpEngine.open("io_uring", { shards: 2, logger });
    Deno.env.set("CLUTCH_BPF_DIR", "/nonexistent-cc-bpf");
    let native: RtpSession;
    try {
      native = await RtpSession.open({
        hostname: "127.0.0.1",
        portRange: TEST_PORTS,
        payloads,
        engine,
      });
    } finally {
      Deno.env.delete("CLUTCH_BPF_DIR");
    }
    await using _native = native;
    await using plain = await RtpSession.open({
      hostname: "127.0.0.1",
      portRange: TEST_PORTS,
      payloads,
      engine: denoRtpEngine(),
    });
    assertEquals(engine.steering?.active, false);
    const warned = lines.map((l) => JSON.parse(l)).find((l) =>
      l.msg === "RTP steering off: one socket per call on its shard"
    );
    assert(warned?.reason?.includes("steer.bpf.o"), lines.join("\n"));
    assertEquals(engine.steerStats(), undefined);
    const got = frames(native, 5);
    plain.setRemote({ hostname: "127.0.0.1", port: native.localPort });
    for (let i = 0; i < 5; i++) plain.sendAudio(new Uint8Array(160).fill(i), 160);
    assertEquals((await got).length, 5);
  },
});

/** The issue-17 spoof on one engine: what the session delivered and counted. */
async function spoofedCall(engine: RtpEngine) {
  await using session = await RtpSession.open({
    hostname: "127.0.0.1",
    portRange: TEST_PORTS,
    payloads,
    engine,
  });
  using caller = new RawPeer();
  using intruder = new RawPeer();
  const got = frames(session, 30);
  for (let i = 0; i < 30; i++) {
    await caller.send(session.localPort, { sequenceNumber: 5000 + i, ssrc: 0x1111 });
    if (i === 10) {
      // Forged from the caller's address and port: five in sequence, a new SSRC.
      for (let k = 0; k < 5; k++) {
        await caller.send(session.localPort, { sequenceNumber: 100 + k, ssrc: 0xbad });
      }
      // Another address, and a payload type nobody negotiated.
      await intruder.send(session.localPort, { sequenceNumber: 7, ssrc: 0x1111 });
      await caller.send(session.localPort, { sequenceNumber: 9, payloadType: 8 });
    }
  }
  const delivered = await got;
  const { staleSsrc, wrongSource, unknownPayloadType, ssrcChanges, relatches } = session.stats;
  return {
    sequences: delivered.map((f) => `${f.ssrc}:${f.sequence}`),
    counts: { staleSsrc, wrongSource, unknownPayloadType, ssrcChanges, relatches },
  };
}

Deno.test({
  name:
    "io_uring runs the source filter in its shard: spoofed RTP never reaches JS, and the session delivers and counts as on the Deno engine",
  ignore: ioUring !== undefined && !ci,
  async fn() {
    await using engine = NativeRtpEngine.open("io_uring", { shards: 1 });
    const reference = await spoofedCall(denoRtpEngine());
    const native = await spoofedCall(engine);
    assertEquals(native, reference);
    assertEquals(reference.counts, {
      staleSsrc: 5,
      wrongSource: 1,
      unknownPayloadType: 1,
      ssrcChanges: 0,
      relatches: 0,
    });
    // The shard dropped those seven itself: JS got only the caller's 30.
    assertEquals(engine.stats(0).rxFiltered, 7);
  },
});

Deno.test({
  name:
    "a closed io_uring session's port can be bound again at once, and the range runs out like Deno's",
  ignore: ioUring !== undefined && !ci,
  async fn() {
    await using engine = NativeRtpEngine.open("io_uring", { shards: 1 });
    const first = await RtpSession.open({
      hostname: "127.0.0.1",
      portRange: TEST_PORTS,
      payloads,
      engine,
    });
    const port = first.localPort;
    await first.close();
    await using again = await RtpSession.open({
      hostname: "127.0.0.1",
      portRange: { min: port, max: port + 1 },
      payloads,
      engine,
    });
    assertEquals(again.localPort, port);
    let error: unknown;
    try {
      await RtpSession.open({
        hostname: "127.0.0.1",
        portRange: { min: port, max: port + 1 },
        payloads,
        engine,
      });
    } catch (e) {
      error = e;
    }
    assert(error instanceof Deno.errors.AddrInUse, String(error));
  },
});

Deno.test("auto picks the best engine that works and logs why the better ones did not", async () => {
  const lines: string[] = [];
  const logger = createLogger({ json: true, sink: (l) => lines.push(l) });
  const engine = openRtpEngine("auto", { logger, shards: 1, override: null });
  try {
    const first = JSON.parse(lines[0]);
    assertEquals(first.msg, `RTP engine: ${engine.name}`);
    const expected = ioUring === undefined ? "io_uring" : "deno";
    // xdp comes first when it works; otherwise the next one, with xdp's reason logged.
    if (engine.name !== "xdp") {
      assertEquals(engine.name, expected);
      assert(lines.some((l) => JSON.parse(l).msg === "RTP engine xdp not used"), lines.join("\n"));
    }
  } finally {
    await engine.close();
  }
});

Deno.test("CLUTCH_RTP_ENGINE beats the configuration, and says so", async () => {
  const lines: string[] = [];
  const logger = createLogger({ json: true, sink: (l) => lines.push(l) });
  const engine = openRtpEngine("auto", { logger, override: "deno" });
  await engine.close();
  assertEquals(engine.name, "deno");
  assertEquals(JSON.parse(lines[0]).why, 'CLUTCH_RTP_ENGINE is "deno"');
});

Deno.test("a named engine that cannot run is an error, not a silent fallback", () => {
  if (rtpEngineUnavailable("xdp") === undefined) return; // xdp works here: nothing to refuse
  let error: unknown;
  try {
    openRtpEngine("xdp", { override: null });
  } catch (e) {
    error = e;
  }
  assert(error instanceof Error && /Cannot use RTP engine xdp/.test(error.message), String(error));
});

Deno.test("sessions opened without an engine run on CLUTCH_RTP_ENGINE's (the per-engine suite relies on it)", async () => {
  const wanted = Deno.env.get("CLUTCH_RTP_ENGINE") || "deno";
  await using session = await RtpSession.open({
    hostname: "127.0.0.1",
    portRange: TEST_PORTS,
    payloads,
  });
  assert(session.localPort > 0);
  assertEquals(defaultRtpEngine().name, wanted === "auto" ? defaultRtpEngine().name : wanted);
});

const xdpOnLo = rtpEngineUnavailable("xdp", { interface: "lo" });

Deno.test({
  name:
    "xdp engine (AF_XDP on lo, generic mode) delivers a Deno peer's RTP to the session, latched",
  // Opt-in (TEST_ENGINES=xdp): lo takes one XDP program for the whole machine, so this would
  // collide with any other suite running on it (several engineers share these machines), and
  // with the per-engine xdp run itself.
  // Under CI it always runs (nothing skips there; CI runs one suite per machine, and no other
  // test attaches XDP to lo: auto passes xdp over on loopback).
  ignore: Deno.env.get("CLUTCH_RTP_ENGINE") === "xdp" ||
    (!ci && (xdpOnLo !== undefined || !(Deno.env.get("TEST_ENGINES") ?? "").includes("xdp"))),
  async fn() {
    assertEquals(xdpOnLo, undefined, `xdp on lo must work in CI: ${xdpOnLo}`);
    // Only the receive direction: over lo the xdp engine's sends do not reach a loopback peer
    // yet (reported to its owner); a wait for them would hang rather than fail.
    await using engine = openRtpEngine("xdp", { override: null, hostname: "127.0.0.1" });
    await using native = await RtpSession.open({
      hostname: "127.0.0.1",
      portRange: TEST_PORTS,
      payloads,
      engine,
    });
    await using plain = await RtpSession.open({
      hostname: "127.0.0.1",
      portRange: TEST_PORTS,
      payloads,
      engine: denoRtpEngine(),
    });
    plain.setRemote({ hostname: "127.0.0.1", port: native.localPort });
    const n = 100;
    const atNative = frames(native, n);
    for (let i = 0; i < n; i++) {
      plain.sendAudio(new Uint8Array(160).fill(i & 0xff), 160);
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 0));
    }
    const inNative = await atNative;
    inNative.forEach((f, i) => assertEquals(f.payload[0], i & 0xff));
    assert(native.latched);
    assertEquals(native.remote?.port, plain.localPort);
  },
});
