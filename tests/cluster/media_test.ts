/**
 * The cluster's media scenario with real processes on loopback: three server nodes on one real
 * Redis; a call originated on A (which has no SIP gateway, so B places it: its SIP leg, to a
 * real sipp far end that echoes RTP, is on B) and bridged on C. C's downlink reaches B's SIP
 * leg and B's uplink reaches C's bridge, each over one cascade hop (the tracks are published
 * whole — PUBLISH / in process — not as namespaces), so speech written on C comes back to C
 * through sipp's echo, correlated. Hung up via C; then `kill -9` B mid-call: its call ends
 * `failed`/`node_lost`, the bridge on C sees its uplink end, and A's and C's calls go on.
 */
import { assert, assertEquals } from "@std/assert";
import { requireOrSkip } from "../_lib/env.ts";
import { hasRedis, startRedis } from "../_lib/redis.ts";
import { bestLagCorrelation, piecewiseCorrelation } from "../_lib/correlate.ts";
import { readFixtureWav } from "../_lib/fixtures.ts";
import {
  isStatus,
  nextMatching,
  sharedCertificate,
  sipTrunkSection,
  startNode,
  startSippUas,
} from "./_cluster.ts";
import { haveSipp } from "../sip/_harness.ts";
import { attach, type AudioBridge } from "../../src/bridge/mod.ts";

const available = hasRedis() && haveSipp();
if (!available) requireOrSkip(false, "redis-server or sipp is not installed: the test skips");

/** The echoed speech vs. what C wrote: r at the best lag must be at least this. */
const ECHO_MIN_R = 0.9;
/** Frames read after the last write before the echo is judged (the path's delay, bounded). */
const TAIL_FRAMES = 75;

/** Reads `bridge` into `into` until it ends; `onFrame` after each frame. */
async function drain(bridge: AudioBridge, into: Int16Array[], onFrame: () => void): Promise<void> {
  for await (const frame of bridge) {
    into.push(frame.samples!.slice());
    onFrame();
  }
}

/** A promise that `check` resolves once it returns true; bounded: 30 s. */
function until(): { promise: Promise<void>; check: (done: boolean) => void } {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const timer = setTimeout(() => reject(new Error("Not within 30 s")), 30_000);
  promise.finally(() => clearTimeout(timer)).catch(() => {});
  return {
    promise,
    check: (done) => {
      if (done) resolve();
    },
  };
}

Deno.test({
  name:
    "three nodes: a call originated on A gets its SIP leg on B and a bridge on C, audio both ways over the cascade (correlated); hangup via C; kill -9 B mid-call ends its call node_lost",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using redis = await startRedis();
    await using tls = await sharedCertificate();
    const { file } = tls;
    // B's trunk is a sipp UAS echoing every RTP packet back (two calls, then it exits).
    await using uas = await startSippUas({ echo: true, calls: 2 });
    await using a = await startNode(redis, "node-a", { file });
    await using b = await startNode(redis, "node-b", {
      file: {
        ...file,
        sip: sipTrunkSection(uas.port),
      },
    });
    await using c = await startNode(redis, "node-c", { file });
    await using moqC = await tls.connect(c);
    const stop = new AbortController();
    try {
      // The SIP call, originated on A (no SIP gateway there): placed by B, whose gateway
      // dials sipp; watched from C.
      const call = await a.voice.calls.originate({ from: "+14155550100", to: "+14155550123" });
      const events = c.voice.calls.events(call.sid, { signal: stop.signal });
      await nextMatching(events, isStatus("in_progress"));

      // The bridge on C: publishes the downlink on C, subscribes the uplink published on B.
      await using bridge = await attach(moqC, { sid: call.sid, codec: "pcm16", sampleRate: 8000 });
      const received: Int16Array[] = [];
      let tailFrom = Infinity;
      const tail = until();
      const reading = drain(bridge, received, () => tail.check(received.length >= tailFrom));

      // 5 s of speech in real time (one 20 ms frame per tick: what a live source writes).
      const speech = readFixtureWav("speech-8k.wav").samples.subarray(0, 40_000);
      for (let i = 0; i + 160 <= speech.length; i += 160) {
        bridge.write(speech.slice(i, i + 160));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      tailFrom = received.length + TAIL_FRAMES;
      await tail.promise;

      // 2 s from the middle of what C wrote must come back to C (C → B → sipp → B → C).
      const echoed = concat(received);
      const reference = speech.subarray(16_000, 32_000);
      // Piece by piece (0.5 s each, each at its own lag): a player on the way splices silence
      // in after its writer stalled past a pause (this test's writer on a loaded machine),
      // shifting what follows; each piece must still come back whole. One lag over the 2 s
      // failed a clean-clone run that way (r = 0.514: the part before the shift only).
      const pieces = piecewiseCorrelation(reference, echoed, 4);
      const told = pieces.map((p) => `r=${p.r.toFixed(3)} at ${p.lag}`).join(", ");
      console.log(`echoed through B: ${echoed.length} samples, pieces ${told}`);
      for (const { r, lag } of pieces) {
        assert(
          r >= ECHO_MIN_R,
          `echo correlates ${r.toFixed(3)} (lag ${lag}), want ≥ ${ECHO_MIN_R}`,
        );
      }
      // A control: speech C never wrote does not match, so r is not a property of any speech.
      const other = readFixtureWav("turns-8k.wav").samples.subarray(0, 16_000);
      const control = bestLagCorrelation(other, echoed, { minOverlap: 16_000 });
      console.log(`control (other speech): r=${control.r.toFixed(3)}`);
      assert(control.r < 0.5, `control correlation ${control.r.toFixed(3)} should be low`);

      // Hang up via C: forwarded to B, whose leg ends; the uplink's end reaches C's bridge.
      const ended = await c.voice.calls.hangup(call.sid);
      assertEquals([ended.status, ended.endReason], ["completed", "hangup"]);
      await reading;

      // Mid-call loss of B: a second SIP call with media flowing to C, and calls on A and C.
      await a.voice.clients.add("gina");
      const onA = await a.voice.calls.originate({ from: "+14155550100", to: "client:gina" });
      const onC = await c.voice.calls.originate({ from: "+14155550100", to: "client:gina" });
      const second = await a.voice.calls.originate({ from: "+14155550100", to: "+14155550124" });
      const secondEvents = a.voice.calls.events(second.sid, { signal: stop.signal });
      await nextMatching(secondEvents, isStatus("in_progress"));
      for (const sid of [onA.sid, onC.sid]) {
        await nextMatching(a.voice.calls.events(sid, { signal: stop.signal }), isStatus("ringing"));
      }
      await using lostBridge = await attach(moqC, {
        sid: second.sid,
        codec: "pcm16",
        sampleRate: 8000,
      });
      const frames: Int16Array[] = [];
      const first = until();
      const flowing = drain(lostBridge, frames, () => first.check(true)).then(
        () => "ended",
        () => "ended with an error",
      );
      await first.promise; // B's uplink reaches C
      await b.kill();
      const lost = await nextMatching(secondEvents, isStatus("failed"));
      assertEquals(lost.type === "status" && lost.call.endReason, "node_lost");
      // The cascaded uplink on C ends with B: the reaping node tells every node to drop its
      // session to B.
      assert(["ended", "ended with an error"].includes(await flowing));
      assertEquals((await a.voice.calls.get(onA.sid)).status, "ringing");
      assertEquals((await c.voice.calls.get(onC.sid)).status, "ringing");
    } finally {
      stop.abort();
    }
  },
});

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
