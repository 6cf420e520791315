import { assert, assertEquals, assertGreater, assertLess } from "@std/assert";
import { decodeUlaw, encodeUlaw } from "../../src/codecs/g711.ts";
import { pcm16ToBytes } from "../../src/codecs/pcm16.ts";
import { readFixtureWav } from "../_lib/fixtures.ts";
import { Origin } from "../../src/relay/model/mod.ts";
import {
  type RtpAudioFrame,
  RtpLeg,
  type RtpPayloadMap,
  RtpSession,
  type SpeechEvent,
} from "../../src/rtp/mod.ts";
import { FRAMES_PER_GROUP, nowMicros } from "../../src/voice/track.ts";
import { RawPeer, TEST_PORTS, waitFor } from "./_udp.ts";
import { pace } from "../_lib/wait.ts";

const PCMU: RtpPayloadMap = {
  audio: { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 },
  telephoneEvent: { payloadType: 101, clockRate: 8000 },
};

function wav(name: string): Int16Array {
  return readFixtureWav(name).samples;
}

/** Best normalized cross-correlation of `b` against `a` within ±maxLag samples. */
function correlation(a: Int16Array, b: Int16Array, maxLag: number): { r: number; lag: number } {
  let best = { r: -1, lag: 0 };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let ab = 0, aa = 0, bb = 0;
    for (let i = Math.max(0, -lag); i < a.length && i + lag < b.length; i++) {
      const x = a[i], y = b[i + lag];
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    const r = ab / Math.sqrt(aa * bb || 1);
    if (r > best.r) best = { r, lag };
  }
  return best;
}

async function pair(
  extra: {
    vad?: boolean;
    onSpeech?: (e: SpeechEvent) => void;
    speechWanted?: () => boolean;
  } = {},
) {
  const origin = new Origin();
  const sid = `CA${crypto.randomUUID().slice(0, 8)}`;
  const session = await RtpSession.open({
    hostname: "127.0.0.1",
    portRange: TEST_PORTS,
    payloads: PCMU,
  });
  const far = await RtpSession.open({
    hostname: "127.0.0.1",
    portRange: TEST_PORTS,
    payloads: PCMU,
    remote: { hostname: "127.0.0.1", port: session.localPort },
  });
  session.setRemote({ hostname: "127.0.0.1", port: far.localPort });
  const leg = await RtpLeg.start({ origin, sid, session, ...extra });
  return {
    origin,
    sid,
    session,
    far,
    leg,
    async [Symbol.asyncDispose]() {
      await leg.stop();
      await far.close();
    },
  };
}

/** Sends µ-law at real time in `ptimeMs` packets. */
async function play(far: RtpSession, ulaw: Uint8Array, ptimeMs: number): Promise<void> {
  const bytes = ptimeMs * 8;
  const start = performance.now();
  for (let i = 0, n = 0; i + bytes <= ulaw.length; i += bytes, n++) {
    far.sendAudio(ulaw.subarray(i, i + bytes), bytes);
    const wait = start + (n + 1) * ptimeMs - performance.now();
    if (wait > 0) await pace(wait);
  }
}

Deno.test("RTP leg: 40 ms µ-law packets arrive on the uplink as 20 ms objects, bytes intact, capture times on", async () => {
  await using t = await pair();
  const source = wav("speech-8k.wav").subarray(0, 16000); // 2 s
  const ulaw = encodeUlaw(source);
  const uplink = await t.origin.subscribe(["voice", t.sid], "uplink");
  assertEquals(uplink.info.capability, "voice/g711_ulaw");
  const objects: { payload: Uint8Array; at: number; group: number; id: number }[] = [];
  const reading = (async () => {
    for (let g = await uplink.nextGroup(); g; g = await uplink.nextGroup()) {
      for (let o = await g.readObject(); o; o = await g.readObject()) {
        objects.push({
          payload: o.payload,
          at: o.timestamp!,
          group: g.id,
          id: o.id,
        });
      }
    }
  })();
  const sentAt = nowMicros();
  await play(t.far, ulaw, 40);
  await waitFor(() => objects.length === 100, 20_000, "100 uplink objects");
  const allReadAt = nowMicros();
  await t.leg.stop();
  await reading;
  assert(objects.every((o) => o.payload.length === 160));
  const received = new Uint8Array(objects.flatMap((o) => [...o.payload]));
  assertEquals(received, ulaw, "no transcoding: the bytes sent are the bytes published");
  const { r } = correlation(source, decodeUlaw(received), 0);
  assertGreater(r, 0.99);
  assertEquals(objects.map((o) => o.id), objects.map((_, i) => i % FRAMES_PER_GROUP));
  assertEquals(objects[99].group, 9);
  const steps = objects.slice(1).map((o, i) => o.at - objects[i].at);
  assert(steps.every((s) => s > 0), "capture times increase");
  // Capture times follow the RTP clock: 20 ms steps, except where a stalled event loop made
  // the publisher re-anchor on the wall clock (a loaded machine): the median step is exact.
  const median = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)];
  assertLess(Math.abs(median - 20_000), 1, `median capture-time step ${median} µs`);
  // Anchored on the wall clock when the first packet arrived: after it was sent, before all
  // were read (bounds from signals, not a time budget a loaded machine could overrun).
  assert(
    objects[0].at >= sentAt - 1000 && objects[0].at <= allReadAt,
    "capture times on the wall clock",
  );
});

Deno.test("RTP leg: pcm16 written on the downlink goes out as paced µ-law RTP that correlates", async () => {
  await using t = await pair();
  const source16k = wav("speech-16k.wav").subarray(0, 32000); // 2 s
  const reference = wav("speech-8k.wav").subarray(0, 16000);
  const frames: { frame: RtpAudioFrame; at: number }[] = [];
  t.far.on(
    "audio",
    (frame) =>
      frames.push({ frame: { ...frame, payload: frame.payload.slice() }, at: performance.now() }),
  );
  const downlink = t.origin.publishTrack({
    namespace: ["voice", t.sid],
    name: "downlink",
    capability: "voice/pcm16",
  });
  // Subscribed is enough: groups written while the leg makes its transcoder wait in the
  // track's window of recent groups.
  await waitFor(() => downlink.consumers > 0, 20_000, "the leg to subscribe");
  // Written in 400 ms bursts (two groups at once, as a TTS engine might): the leg paces them.
  const now = nowMicros();
  for (let g = 0; g < 10; g++) {
    const group = downlink.appendGroup(g);
    for (let id = 0; id < FRAMES_PER_GROUP; id++) {
      const i = g * FRAMES_PER_GROUP + id;
      group.write({
        id,
        payload: pcm16ToBytes(source16k.subarray(i * 320, (i + 1) * 320)),
        timestamp: Math.round(now + i * 20_000),
      });
    }
    group.close();
    if (g % 2 === 1) await pace(400); // a writer handing over 400 ms of audio every 400 ms
  }
  // Before the downlink had audio the leg sent µ-law silence (0xFF): the speech starts after.
  const isSilence = (p: Uint8Array) => p.length === 160 && p.every((b) => b === 0xff);
  const start = () => frames.findIndex((f) => !isSilence(f.frame.payload));
  await waitFor(() => start() >= 0 && frames.length - start() >= 100, 20_000, "100 RTP packets");
  assertEquals(frames[0].frame.marker, true, "the stream starts with the marker bit");
  frames.splice(0, start());
  // The writer hands over 20 frames (400 ms of audio) at once; unpaced they would leave within
  // a few ms of each other, paced they take about 380 ms. A loaded machine can only make the
  // paced span longer, so only a lower bound is asserted.
  const firstBurst = frames[19].at - frames[0].at;
  assert(firstBurst > 200, `the first 20 frames were paced over ${firstBurst.toFixed(0)} ms`);
  const pcm = decodeUlaw(new Uint8Array(frames.flatMap((f) => [...f.frame.payload])));
  const { r, lag } = correlation(reference, pcm, 80);
  assertGreater(r, 0.9, `correlation ${r.toFixed(3)} at lag ${lag}`);
  assertEquals(t.leg.stats.downlink.received, 100);
  downlink.close();
});

Deno.test("RTP leg: the downlink is picked up again when a bridge re-attaches", async () => {
  await using t = await pair();
  let count = 0;
  // Counts the frames written (0x7f), not the silence (0xff) the leg sends in between.
  t.far.on("audio", (frame) => frame.payload[0] === 0x7f && count++);
  for (let round = 1; round <= 2; round++) {
    const downlink = t.origin.publishTrack({
      namespace: ["voice", t.sid],
      name: "downlink",
      capability: "voice/g711_ulaw",
    });
    const group = downlink.appendGroup(0);
    for (let i = 0; i < 5; i++) group.write({ id: i, payload: new Uint8Array(160).fill(0x7f) });
    group.close();
    await waitFor(() => count === round * 5, 20_000, `round ${round}`);
    downlink.close();
    await waitFor(() => downlink.consumers === 0, 20_000, `the leg to let go of round ${round}`);
  }
  assertEquals(t.leg.stats.downlink.subscriptions, 2);
});

Deno.test("RTP leg VAD reports the speech start of turns-8k.wav sent as real-time RTP", async () => {
  const events: SpeechEvent[] = [];
  await using t = await pair({ vad: true, onSpeech: (e) => events.push(e) });
  const source = wav("turns-8k.wav").subarray(0, 8000 * 2.4);
  const firstFrame: number[] = [];
  // A second audio listener beside the leg's (listeners add up, none replaces another).
  t.session.on("audio", (f: RtpAudioFrame) => {
    if (firstFrame.length === 0) firstFrame.push(f.arrival);
  });
  await play(t.far, encodeUlaw(source), 20);
  await waitFor(() => events.length >= 1, 20_000, "speech start");
  const startS = (events[0].at - firstFrame[0]) / 1e6;
  assertEquals(events[0].type, "speech_start");
  assertLess(Math.abs(startS - 1.5), 0.2, `speech start at ${startS.toFixed(3)} s`);
  assertGreater(t.leg.stats.vadFrames, 100);
});

Deno.test("RTP leg: with comfort noise negotiated, nothing to play sends RFC 3389 CN at the ptime, then audio with the marker", async () => {
  using far = new RawPeer();
  const origin = new Origin();
  const sid = `CA${crypto.randomUUID().slice(0, 8)}`;
  const session = await RtpSession.open({
    hostname: "127.0.0.1",
    portRange: TEST_PORTS,
    payloads: { ...PCMU, comfortNoise: { payloadType: 13 } },
    remote: { hostname: "127.0.0.1", port: far.port },
  });
  await using leg = await RtpLeg.start({ origin, sid, session });
  await waitFor(() => far.received.length >= 10, 20_000, "10 comfort-noise packets");
  const noise = far.packets().slice(0, 10);
  assert(
    noise.every((p) => p.payloadType === 13 && p.payload.length === 1 && p.payload[0] === 127),
  );
  // One ptime (20 ms at 8 kHz) of timeline per CN packet.
  assertEquals(
    noise.slice(1).map((p, i) => (p.timestamp - noise[i].timestamp) >>> 0),
    noise.slice(1).map(() => 160),
  );
  const downlink = origin.publishTrack({
    namespace: ["voice", sid],
    name: "downlink",
    capability: "voice/g711_ulaw",
  });
  const group = downlink.appendGroup(0);
  group.write({ id: 0, payload: new Uint8Array(160).fill(0x7f) });
  group.close();
  await waitFor(() => far.packets().some((p) => p.payloadType === 0), 20_000, "the audio packet");
  const audio = far.packets().find((p) => p.payloadType === 0)!;
  assertEquals(audio.marker, true, "the first speech after CN starts a talkspurt");
  assertEquals(audio.payload, new Uint8Array(160).fill(0x7f));
  assertGreater(leg.stats.downlink.silence, 9);
  downlink.close();
});

Deno.test("RTP leg VAD is not fed while nobody wants speech events, and starts when someone does", async () => {
  let wanted = false;
  const events: SpeechEvent[] = [];
  await using t = await pair({
    vad: true,
    onSpeech: (e) => events.push(e),
    speechWanted: () => wanted,
  });
  const source = encodeUlaw(wav("turns-8k.wav").subarray(0, 8000 * 2.4)); // speech from ~1.5 s
  await play(t.far, source, 20);
  await waitFor(() => t.leg.stats.uplinkPublished >= 100, 20_000, "the first pass published");
  // The uplink flowed, but no frame was decoded or classified for a VAD nobody listens to.
  assertEquals([t.leg.stats.vadFrames, events.length], [0, 0]);
  wanted = true;
  await play(t.far, source, 20);
  await waitFor(() => events.length >= 1, 20_000, "speech start once wanted");
  assertEquals(events[0].type, "speech_start");
  assertGreater(t.leg.stats.vadFrames, 50);
});
