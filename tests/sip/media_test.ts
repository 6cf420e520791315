/**
 * Media through a real sipp, measured: audio the gateway writes on the downlink reaches sipp
 * (sipp's RTP echo sends it back, so it must reappear on the uplink and correlate with what
 * we wrote), and digits sent with `sendDigits` arrive at sipp as RFC 4733 events (echoed
 * back, they come in as `dtmf` events).
 */
import { assert, assertEquals } from "@std/assert";
import { decodeAlaw } from "../../src/codecs/g711.ts";
import { pcm16ToBytes } from "../../src/codecs/pcm16.ts";
import { rtpMedia } from "../../src/sip/rtp_media.ts";
import { FRAMES_PER_GROUP, nowMicros } from "../../src/voice/track.ts";
import { bestLagCorrelation } from "../_lib/correlate.ts";
import { readFixtureWav } from "../_lib/fixtures.ts";
import {
  callerArgs,
  concatBytes,
  haveSipp,
  readCallTracks,
  scenario,
  sipp,
  spawnSipp,
  startGateway,
  waitForStatus,
} from "./_harness.ts";
import { FlakyStore } from "../_lib/flaky_store.ts";
import { pace } from "../_lib/wait.ts";

const wav = (name: string) => readFixtureWav(name).samples;

/** Echoed downlink vs. what we wrote: r at the best lag must be at least this. */
const ECHO_MIN_R = 0.95;

Deno.test("media: downlink audio reaches sipp (its RTP echo brings it back on the uplink, correlating ≥ 0.95) and sendDigits arrives as RFC 4733", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway({
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1" }),
  });
  const uplink: Uint8Array[] = [];
  using _route = readCallTracks(fx, ["uplink"], (o) => uplink.push(o.payload.slice()));
  await using peer = spawnSipp(
    callerArgs(fx.port, ["-sf", scenario("uac_echo.xml"), "-d", "6000", "-rtp_echo"]),
  );
  const call = await waitForStatus(fx, "in_progress");

  // 3 s of speech on the downlink, as pcm16 (16 kHz): the leg transcodes it to A-law.
  const source = wav("speech-16k.wav").subarray(0, 48_000);
  const reference = wav("speech-8k.wav").subarray(0, 24_000);
  const downlink = fx.origin.publishTrack({
    namespace: ["voice", call.sid],
    name: "downlink",
    capability: "voice/pcm16",
  });
  // Subscribed is enough: groups written while the leg makes its transcoder wait in the
  // track's window of recent groups.
  await fx.waitFor(() => downlink.consumers > 0 ? call : undefined, 3000);
  // Until now nothing was played: the leg sent A-law silence (echoed back by sipp), never audio.
  const before = uplink.length;
  assert(uplink.every(isSilence), "only silence comes up before we play anything");
  const now = nowMicros();
  for (let g = 0; g < 15; g++) {
    const group = downlink.appendGroup(g);
    for (let id = 0; id < FRAMES_PER_GROUP; id++) {
      const i = g * FRAMES_PER_GROUP + id;
      group.write({
        id,
        payload: pcm16ToBytes(source.subarray(i * 320, (i + 1) * 320)),
        timestamp: Math.round(now + i * 20_000),
      });
    }
    group.close();
    // Real time, as a TTS engine writes: a subscriber that falls a group behind skips ahead.
    await pace(200);
  }
  await fx.waitFor(() => uplink.length - before >= 140 ? call : undefined, 6000);
  downlink.close();

  // Digits through the control plane → RFC 4733 to sipp → echoed → dtmf events.
  await fx.calls.sendDigits(call.sid, "5#");
  await fx.waitFor(() => fx.events.filter((e) => e.type === "dtmf").length >= 2 ? call : undefined);

  const out = await peer.done;
  assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-1500));
  await waitForStatus(fx, "completed");

  const echoed = decodeAlaw(concatBytes(uplink.slice(before)));
  const { r, lag } = bestLagCorrelation(reference, echoed, {
    minLag: -800,
    maxLag: 800,
    minOverlap: 16_000,
  });
  console.log(`echoed downlink: ${echoed.length} samples, r=${r.toFixed(3)} at lag ${lag}`);
  assert(
    r >= ECHO_MIN_R,
    `echoed downlink correlates ${r.toFixed(3)} (lag ${lag}), want ≥ ${ECHO_MIN_R}`,
  );
  // A control: the same audio a second later does not match, so r is not a property of any speech.
  const control = bestLagCorrelation(reference.subarray(8000), echoed, {
    minLag: -800,
    maxLag: 800,
    minOverlap: 8_000,
  });
  console.log(`control (reference 1 s later): r=${control.r.toFixed(3)}`);
  assert(control.r < 0.5, `control correlation ${control.r.toFixed(3)} should be low`);

  const digits = fx.events.filter((e) => e.type === "dtmf" && e.sid === call.sid).map((e) =>
    (e as { digits: string }).digits
  );
  assertEquals(digits, ["5", "#"]);
});

/** One 20 ms frame of A-law silence (the zero level, 0xD5). */
function isSilence(frame: Uint8Array): boolean {
  return frame.length === 160 && frame.every((b) => b === 0xd5);
}

/** sipp arguments placing `n` calls instead of one. */
function calls(args: string[], n: number): string[] {
  const at = args.indexOf("-m");
  return [...args.slice(0, at + 1), String(n), ...args.slice(at + 2)];
}

/**
 * An even port with it and the next three free on loopback (two RTP/RTCP pairs). The range is
 * the gateway's own (it binds it when a call comes, so a port probed free here can be taken
 * first): it is drawn from 14000–19999, where nothing else in the suite binds — not the
 * kernel's ephemeral ports (32768–60999: every port-0 bind and outgoing connection), not the
 * servers' default RTP range (20000–29999), not the RTP tests' (30000–39999), not sipp's
 * (5060–5119 SIP, 6000 up media).
 */
function freePortQuad(): number {
  for (let port = 14_000 + 4 * Math.floor(Math.random() * 1400); port < 20_000; port += 4) {
    const held: Deno.DatagramConn[] = [];
    try {
      for (let p = port; p < port + 4; p++) {
        held.push(Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: p }));
      }
      return port;
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error; // taken: try the next four
    } finally {
      for (const socket of held) socket.close();
    }
  }
  throw new Error("No four free ports in a row");
}

Deno.test("media: with the RTP port range used up a new call gets 503 with Retry-After (never 500), and the ports of ended calls are free again", async () => {
  if (!haveSipp()) return;
  const first = freePortQuad();
  await using fx = await startGateway({
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1", portRange: [first, first + 3] }),
  });
  // Two calls hold both port pairs for 4 s each.
  const holders = sipp(calls(callerArgs(fx.port, ["-sn", "uac", "-d", "4000", "-l", "2"]), 2));
  await fx.waitFor(() =>
    fx.events.filter((e) => e.type === "status" && e.call.status === "in_progress").length >= 2
      ? ({} as never)
      : undefined
  );
  // A third call: no port left.
  const refused = await sipp(callerArgs(fx.port, ["-sf", scenario("uac_refused_503.xml")], 0));
  assertEquals(refused.code, 0, refused.stdout.slice(-1500) + refused.stderr);
  const held = await holders;
  assertEquals(held.code, 0, held.stdout.slice(-1500) + held.stderr);
  // Both ended: their ports serve the next calls.
  const again = await sipp(calls(callerArgs(fx.port, ["-sn", "uac", "-l", "2"], 0), 2));
  assertEquals(again.code, 0, again.stdout.slice(-1500) + again.stderr);
  const failed = fx.events.filter((e) => e.type === "status" && e.call.status === "failed");
  assertEquals(failed.length, 1, "only the refused call failed");
  const call = failed[0].type === "status" ? failed[0].call : undefined;
  assertEquals([call?.endReason, call?.sipStatus], ["gateway_error", 503]);
  assertEquals(fx.gateway.activeLegs, 0);
});

Deno.test("media: calls that end while the call store lags free their RTP ports at once; their end is persisted when the store catches up", async () => {
  if (!haveSipp()) return;
  let store: FlakyStore | undefined;
  const ports: number[] = [];
  let mediaClosed = 0;
  await using fx = await startGateway({
    store: (kv) => store = new FlakyStore(kv),
    media: (origin) => {
      const rtp = rtpMedia({ origin, hostname: "127.0.0.1" });
      return async (init) => {
        const media = await rtp(init);
        ports.push(media.localPort);
        const close = async () => {
          await media.close();
          mediaClosed++;
        };
        return { ...media, close, [Symbol.asyncDispose]: close };
      };
    },
  });
  const N = 3;
  const running = sipp(
    calls(callerArgs(fx.port, ["-sn", "uac", "-d", "1500", "-l", `${N}`], 0), N),
  );
  const live = () =>
    fx.events.filter((e) => e.type === "status" && e.call.status === "in_progress");
  await fx.waitFor(() => live().length === N ? ({} as never) : undefined, 30_000);
  // From here the store lags: every call's end waits on it.
  store!.lag();
  const ended = await running;
  assertEquals(ended.code, 0, ended.stdout.slice(-1500) + ended.stderr);
  await store!.waitingWrites(N);
  // The RTP sockets are closed while the ends still wait (before the fix they were closed only
  // after the end was reported, so a lagging store held every ended call's ports).
  await fx.waitFor(() => mediaClosed === N ? ({} as never) : undefined, 30_000);
  for (const port of ports) {
    for (const p of [port, port + 1]) {
      Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: p }).close();
    }
  }
  for (const e of live()) {
    if (e.type === "status") assertEquals((await fx.calls.get(e.sid)).status, "in_progress");
  }
  assertEquals(fx.gateway.activeLegs, 0);
  store!.catchUp();
  await fx.waitFor(
    () =>
      fx.events.filter((e) => e.type === "status" && e.call.status === "completed").length === N
        ? ({} as never)
        : undefined,
    30_000,
  );
  assertEquals(store!.writesWaiting, 0);
});
