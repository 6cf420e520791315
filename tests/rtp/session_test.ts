import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertRejects,
  assertThrows,
} from "@std/assert";
import {
  type DtmfEvent,
  isRtcpPacket,
  parseRtcp,
  type RtpAudioFrame,
  type RtpPayloadMap,
  RtpSession,
  serializeRtcp,
} from "../../src/rtp/mod.ts";
import { decodeTelephoneEvent } from "../../src/rtp/telephone_event.ts";
import { encodeUlaw } from "../../src/codecs/g711.ts";
import { RawPeer, TEST_PORTS, waitFor } from "./_udp.ts";
import { pace, quietPeriod } from "../_lib/wait.ts";

const PCMU: RtpPayloadMap = {
  audio: { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 },
  telephoneEvent: { payloadType: 101, clockRate: 8000 },
};

function open(extra: Partial<Parameters<typeof RtpSession.open>[0]> = {}) {
  return RtpSession.open({
    hostname: "127.0.0.1",
    portRange: TEST_PORTS,
    payloads: PCMU,
    ...extra,
  });
}

function collect(session: RtpSession): RtpAudioFrame[] {
  const frames: RtpAudioFrame[] = [];
  session.on("audio", (frame) => frames.push(frame));
  return frames;
}

Deno.test("session binds an even RTP port with RTCP on the next one, or one port with rtcp-mux", async () => {
  await using a = await open();
  await using b = await open({ rtcpMux: true });
  assertEquals(a.localPort % 2, 0);
  assertEquals(a.localRtcpPort, a.localPort + 1);
  assertEquals(b.localRtcpPort, b.localPort);
  assert(a.localPort >= TEST_PORTS.min && a.localPort <= TEST_PORTS.max);
  await assertRejects(
    () => RtpSession.open({ payloads: PCMU, portRange: { min: 10, max: 5 } }),
    RangeError,
  );
});

Deno.test("session delivers reordered, duplicated packets across the sequence wrap in order", async () => {
  await using session = await open();
  using far = new RawPeer();
  const frames = collect(session);
  for (const seq of [65533, 65534, 0, 65535, 0, 1, 2, 1]) {
    await far.send(session.localPort, { sequenceNumber: seq });
  }
  await waitFor(() => frames.length === 6, 2000, "six frames");
  assertEquals(frames.map((f) => f.sequence), [65533, 65534, 65535, 65536, 65537, 65538]);
  assertEquals(frames.map((f) => f.timestamp), [65533, 65534, 65535, 0, 1, 2].map((s) => s * 160));
  const stats = session.stats;
  assertEquals(stats.duplicates, 2);
  assertEquals(stats.reordered, 1);
  assertEquals(stats.lost, 0);
});

Deno.test("session gives up on a gap after the reorder delay and counts the loss", async () => {
  await using session = await open({ maxReorderDelayMs: 30 });
  using far = new RawPeer();
  const frames = collect(session);
  for (const seq of [10, 11, 13]) await far.send(session.localPort, { sequenceNumber: seq });
  await waitFor(() => frames.length === 3, 1000, "the packet behind the gap");
  assertEquals(frames.map((f) => f.sequence), [10, 11, 13]);
  assertEquals(session.stats.lost, 1);
  await far.send(session.localPort, { sequenceNumber: 12 }); // too late now
  await waitFor(() => session.stats.late === 1, 2000, "the late packet to be counted");
  assertEquals(frames.length, 3, "a late packet is counted, not delivered");
});

/**
 * Sends packets of `ssrc` from `peer`, one every 20 ms (the pace of a real stream) from
 * sequence `first`, until `done()` holds; returns how many were sent.
 */
async function streamUntil(
  peer: RawPeer,
  to: number,
  ssrc: number,
  first: number,
  done: () => boolean,
): Promise<number> {
  let sent = 0;
  while (!done()) {
    await peer.send(to, { sequenceNumber: (first + sent) & 0xffff, ssrc });
    sent++;
    if (sent > 500) throw new Error("the new stream was never adopted");
    await pace(20); // adoption waits for the old stream's silence: a time rule
  }
  return sent;
}

Deno.test("session adopts a new SSRC once the old one stopped and the new one proved itself, then drops stragglers", async () => {
  await using session = await open({ ssrcChangeAfterMs: 100 });
  using far = new RawPeer();
  const frames = collect(session);
  const changes: [number, number][] = [];
  session.on("ssrcChange", (a, b) => changes.push([a, b]));
  for (const seq of [100, 101, 102]) await far.send(session.localPort, { sequenceNumber: seq });
  await waitFor(() => frames.length === 3);
  // The old stream stops; the new one (a re-INVITE, a transfer upstream) starts.
  const sent = await streamUntil(far, session.localPort, 0x2222, 7, () => changes.length > 0);
  await far.send(session.localPort, { sequenceNumber: 103 }); // old SSRC straggler
  await far.send(session.localPort, { sequenceNumber: 7 + sent, ssrc: 0x2222 });
  await waitFor(() => frames.at(-1)?.timestamp === (7 + sent) * 160, 2000, "the next new frame");
  const fresh = frames.slice(3);
  assertEquals(frames.slice(0, 3).map((f) => [f.ssrc, f.sequence]), [
    [0x1111, 100],
    [0x1111, 101],
    [0x1111, 102],
  ]);
  assert(fresh.length >= 2 && fresh.every((f) => f.ssrc === 0x2222));
  const firstSeq = fresh[0].sequence;
  assertEquals(fresh.map((f) => f.sequence - firstSeq), fresh.map((_, i) => i));
  assertGreaterOrEqual(firstSeq - 7 + 1, 3); // probation: at least 3 in sequence first
  assertEquals(changes, [[0x1111, 0x2222]]);
  assertEquals(session.stats.ssrcChanges, 1);
  // Probation packets of the new SSRC before adoption, plus the old one's straggler.
  assertEquals(session.stats.staleSsrc, sent + 1 - fresh.length + 1);
});

Deno.test("five spoofed packets with a new SSRC from the caller's own address and port do not silence the caller", async () => {
  await using session = await open();
  using caller = new RawPeer();
  const frames = collect(session);
  const changes: [number, number][] = [];
  session.on("ssrcChange", (a, b) => changes.push([a, b]));
  // 60 frames (1.2 s) of a 1 kHz tone in µ-law.
  const tone = (i: number) => {
    const pcm = new Int16Array(160);
    for (let n = 0; n < 160; n++) pcm[n] = 8000 * Math.sin(2 * Math.PI * (i * 160 + n) / 8);
    return encodeUlaw(pcm);
  };
  const FRAMES = 60;
  for (let i = 0; i < FRAMES; i++) {
    await caller.send(session.localPort, { sequenceNumber: 5000 + i, payload: tone(i) });
    if (i === 20) {
      // The attacker forges the caller's address and port: five in-sequence packets of a
      // new SSRC in a burst, then a second burst later on.
      for (let k = 0; k < 5; k++) {
        await caller.send(session.localPort, { sequenceNumber: 100 + k, ssrc: 0xbad });
      }
    }
    if (i === 40) {
      for (let k = 0; k < 5; k++) {
        await caller.send(session.localPort, { sequenceNumber: 105 + k, ssrc: 0xbad });
      }
    }
    await pace(20); // the caller never falls silent for ssrcChangeAfterMs: a time rule
  }
  await waitFor(() => frames.length === FRAMES, 3000, "every caller frame");
  assertEquals(changes, []);
  assert(frames.every((f) => f.ssrc === 0x1111));
  assertEquals(frames.map((f) => f.sequence), frames.map((_, i) => 5000 + i));
  // The audio is whole: it is the tone the caller sent, frame for frame.
  for (let i = 0; i < FRAMES; i++) assertEquals(frames[i].payload, tone(i));
  assertEquals(session.stats.lost, 0);
  assertEquals(session.stats.staleSsrc, 10);
});

Deno.test("the caller's SSRC is never blacklisted: it comes back after a spoofed stream stops", async () => {
  await using session = await open({ ssrcChangeAfterMs: 60 });
  using caller = new RawPeer();
  const frames = collect(session);
  const changes: [number, number][] = [];
  session.on("ssrcChange", (a, b) => changes.push([a, b]));
  await caller.send(session.localPort, { sequenceNumber: 1 });
  await waitFor(() => frames.length === 1);
  // The caller pauses (no RTP); a forged stream from its address passes probation.
  await streamUntil(caller, session.localPort, 0xbad, 300, () => changes.length === 1);
  // The forger stops, the caller resumes: it proves itself again and takes the call back.
  await streamUntil(caller, session.localPort, 0x1111, 2, () => changes.length === 2);
  assertEquals(changes, [[0x1111, 0xbad], [0xbad, 0x1111]]);
  assertEquals(frames.at(-1)?.ssrc, 0x1111);
});

Deno.test("a re-INVITE to the same remote keeps the latch, so a packet from elsewhere cannot latch", async () => {
  using far = new RawPeer();
  using intruder = new RawPeer();
  await using session = await open({ remote: { hostname: "127.0.0.1", port: far.port } });
  const frames = collect(session);
  await far.send(session.localPort, { sequenceNumber: 1 });
  await waitFor(() => frames.length === 1);
  session.setRemote({ hostname: "127.0.0.1", port: far.port }); // session refresh re-INVITE
  assert(session.latched);
  await intruder.send(session.localPort, { sequenceNumber: 9, ssrc: 0x9999 });
  await far.send(session.localPort, { sequenceNumber: 2 });
  await waitFor(() => frames.length === 2);
  assertEquals(session.stats.wrongSource, 1);
  assertEquals(session.remote?.port, far.port);
});

Deno.test("a re-INVITE moving the media starts the new stream at once, new SSRC included", async () => {
  using first = new RawPeer();
  using moved = new RawPeer();
  await using session = await open({ remote: { hostname: "127.0.0.1", port: first.port } });
  const frames = collect(session);
  const changes: [number, number][] = [];
  session.on("ssrcChange", (a, b) => changes.push([a, b]));
  await first.send(session.localPort, { sequenceNumber: 1 });
  await waitFor(() => frames.length === 1);
  session.setRemote({ hostname: "127.0.0.1", port: moved.port }); // re-INVITE: new c=/m=
  await moved.send(session.localPort, { sequenceNumber: 500, ssrc: 0x3333 });
  await waitFor(() => frames.length === 2, 2000, "the first packet of the moved stream");
  assertEquals(frames.map((f) => f.ssrc), [0x1111, 0x3333]);
  assertEquals(changes, [[0x1111, 0x3333]]);
  assertEquals(session.remote?.port, moved.port);
});

Deno.test("symmetric RTP latches to the first source, drops others, re-latches after silence and probation", async () => {
  using sdp = new RawPeer(); // what SDP said (a private address behind NAT: never sends)
  using nat = new RawPeer(); // where RTP really comes from
  using intruder = new RawPeer();
  await using session = await open({
    remote: { hostname: "127.0.0.1", port: sdp.port },
    relatchAfterMs: 200,
  });
  const frames = collect(session);
  session.sendAudio(new Uint8Array(160), 160);
  await waitFor(() => sdp.received.length === 1, 1000, "audio to the SDP address before latching");

  await nat.send(session.localPort, { sequenceNumber: 1 });
  await waitFor(() => frames.length === 1);
  assert(session.latched);
  assertEquals(session.remote?.port, nat.port);
  session.sendAudio(new Uint8Array(160), 160);
  await waitFor(() => nat.received.length === 1, 1000, "audio to the latched source");

  // Five in-sequence packets from elsewhere while the latched source talks: all dropped.
  for (let k = 0; k < 5; k++) {
    await intruder.send(session.localPort, { sequenceNumber: 2 + k, ssrc: 0x9999 });
  }
  await nat.send(session.localPort, { sequenceNumber: 2 });
  await waitFor(() => frames.length === 2);
  await waitFor(() => session.stats.wrongSource >= 5, 2000, "the intruder's packets to be dropped");
  assertEquals(session.stats.wrongSource, 5);
  assertEquals(frames.every((f) => f.ssrc === 0x1111), true);

  // The latched source stays silent longer than relatchAfterMs (a time rule, so a lower bound):
  // then another one may take over, on probation.
  await quietPeriod(260);
  for (let k = 0; k < 3; k++) {
    await intruder.send(session.localPort, { sequenceNumber: 10 + k, ssrc: 0x9999 });
  }
  await waitFor(() => frames.length === 3);
  assertEquals(session.remote?.port, intruder.port);
  assertEquals(session.stats.relatches, 1);
  assertEquals(session.stats.wrongSource, 7);
  session.sendAudio(new Uint8Array(160), 160);
  await waitFor(() => intruder.received.length >= 1, 1000, "audio to the re-latched source");
});

Deno.test("without symmetric RTP only the SDP remote may send", async () => {
  using far = new RawPeer();
  using other = new RawPeer();
  await using session = await open({
    symmetric: false,
    remote: { hostname: "127.0.0.1", port: far.port },
  });
  const frames = collect(session);
  await other.send(session.localPort, { sequenceNumber: 1 });
  await far.send(session.localPort, { sequenceNumber: 1 });
  await waitFor(() => frames.length === 1);
  await waitFor(() => session.stats.wrongSource >= 1, 2000, "the other source to be dropped");
  assertEquals(session.stats.wrongSource, 1);
});

Deno.test("session counts malformed packets and unknown payload types, and keeps going", async () => {
  await using session = await open();
  using far = new RawPeer();
  const frames = collect(session);
  await far.sendRaw(session.localPort, new Uint8Array([1, 2, 3]));
  await far.sendRaw(session.localPort, new Uint8Array(1000).fill(0xbf));
  await far.send(session.localPort, { sequenceNumber: 5, payloadType: 18 });
  await far.send(session.localPort, {
    sequenceNumber: 6,
    payloadType: 101,
    payload: new Uint8Array(2),
  });
  await far.send(session.localPort, { sequenceNumber: 7 });
  await waitFor(() => frames.length === 1);
  await waitFor(
    () => session.stats.malformed >= 3 && session.stats.unknownPayloadType >= 1,
    2000,
    "the bad packets to be counted",
  );
  assertEquals(session.stats.malformed, 3);
  assertEquals(session.stats.unknownPayloadType, 1);
});

Deno.test("session reports RTP inactivity once, and again after RTP resumed and stopped", async () => {
  await using session = await open({ inactivityTimeoutMs: 300 });
  using far = new RawPeer();
  let fired = 0;
  session.on("inactive", () => fired++);
  const started = performance.now();
  await waitFor(() => fired === 1, 2000, "inactivity");
  const took = performance.now() - started;
  assertGreaterOrEqual(took, 300, "not before the inactivity timeout");
  await quietPeriod(400); // rules out a second report while RTP stays silent
  assertEquals(fired, 1);
  await far.send(session.localPort, { sequenceNumber: 1 });
  await waitFor(() => fired === 2, 2000, "second inactivity");
});

Deno.test("send path: sequence and timestamp advance, marker on each talkspurt start", async () => {
  using far = new RawPeer();
  let clockMs = 1000; // the send path's clock, driven by the test
  await using session = await open({
    remote: { hostname: "127.0.0.1", port: far.port },
    sendClock: () => clockMs,
  });
  for (let i = 0; i < 3; i++) {
    assert(session.sendAudio(new Uint8Array(160).fill(i), 160));
    clockMs += 20;
  }
  clockMs += 180; // a 200 ms pause since the last packet: the next one starts a talkspurt
  session.sendAudio(new Uint8Array(160), 160);
  await waitFor(() => far.received.length === 4);
  const p = far.packets();
  assertEquals(p.map((x) => x.marker), [true, false, false, true]);
  assertEquals(p.map((x) => (x.sequenceNumber - p[0].sequenceNumber) & 0xffff), [0, 1, 2, 3]);
  assertEquals([1, 2].map((i) => (p[i].timestamp - p[0].timestamp) >>> 0), [160, 320]);
  const jump = (p[3].timestamp - p[2].timestamp) >>> 0;
  assertEquals(jump, 160 + 8 * 180, "the timestamp jumps by the pause");
  assert(p.every((x) => x.ssrc === session.ssrc && x.payloadType === 0));
  session.direction = "recvonly";
  assertEquals(session.sendAudio(new Uint8Array(160), 160), false);
});

Deno.test("DTMF both ways between two sessions, with RFC 4733 packet rules on the wire", async () => {
  await using a = await open();
  await using b = await open();
  a.setRemote({ hostname: "127.0.0.1", port: b.localPort });
  b.setRemote({ hostname: "127.0.0.1", port: a.localPort });
  const atA: DtmfEvent[] = [];
  const atB: DtmfEvent[] = [];
  a.on("dtmf", (e) => atA.push(e));
  b.on("dtmf", (e) => atB.push(e));
  await Promise.all([a.sendDigits("123#"), b.sendDigits("*9", { durationMs: 160 })]);
  await waitFor(() => atB.length === 4 && atA.length === 2, 2000, "digits");
  assertEquals(atB.map((e) => e.digit).join(""), "123#");
  assertEquals(atA.map((e) => e.digit).join(""), "*9");
  assert(atB.every((e) => e.ended && e.durationMs === 100 && e.volume === 10));
  assert(atA.every((e) => e.durationMs === 160));
  assertEquals(b.stats.dtmfPacketsReceived, a.stats.dtmfPacketsSent);
  await assertRejects(
    () =>
      open({ payloads: { audio: PCMU.audio } }).then(async (s) => {
        await using _ = s;
        await s.sendDigits("1");
      }),
    Error,
    "telephone-event was not negotiated",
  );
  assertThrows(() => a.sendDigits("1x"), RangeError);
});

Deno.test("a digit on the wire: marker first, one timestamp, growing duration, end sent three times", async () => {
  using far = new RawPeer();
  await using session = await open({ remote: { hostname: "127.0.0.1", port: far.port } });
  session.sendAudio(new Uint8Array(160), 160);
  await session.sendDigits("5", { durationMs: 100, gapMs: 0 });
  assertEquals(session.sendAudio(new Uint8Array(160), 160), true);
  await waitFor(() => far.received.length >= 1 + 4 + 3 + 1);
  const packets = far.packets();
  const events = packets.filter((p) => p.payloadType === 101);
  const decoded = events.map((p) => decodeTelephoneEvent(p.payload));
  assertEquals(events[0].marker, true);
  assert(events.slice(1).every((p) => !p.marker));
  assertEquals(new Set(events.map((p) => p.timestamp)).size, 1);
  assertEquals(decoded.map((e) => e.duration), [160, 320, 480, 640, 800, 800, 800]);
  assertEquals(decoded.map((e) => e.end), [false, false, false, false, true, true, true]);
  assert(decoded.every((e) => e.event === 5));
  const seqs = packets.map((p) => p.sequenceNumber);
  assertEquals(seqs.map((s) => (s - seqs[0]) & 0xffff), packets.map((_, i) => i));
  const [first, , , , , , , , last] = packets;
  assertEquals((events[0].timestamp - first.timestamp) >>> 0, 160);
  assert(((last.timestamp - events[0].timestamp) >>> 0) >= 800, "audio resumes after the event");
});

Deno.test("RTCP: BYE on close (separate port and muxed), reports parsed, closing twice is a no-op", async () => {
  using rtp = new RawPeer();
  using rtcp = new RawPeer(rtp.port + 1 <= 65535 ? 0 : 0);
  const session = await open({
    remote: { hostname: "127.0.0.1", port: rtp.port, rtcpPort: rtcp.port },
  });
  session.sendAudio(new Uint8Array(160), 160);
  await session.close();
  await session.close();
  assert(session.closed);
  await waitFor(() => rtcp.received.length === 1, 1000, "RTCP BYE");
  const [sr, bye] = parseRtcp(rtcp.received[0].bytes);
  assertEquals(sr.type, "sr");
  assertEquals(bye, { type: "bye", ssrcs: [session.ssrc] });

  const muxed = await open({
    rtcpMux: true,
    rtcpIntervalMs: 100,
    remote: { hostname: "127.0.0.1", port: rtp.port },
  });
  const reports = () =>
    rtp.received.filter((r) => isRtcpPacket(r.bytes)).map((r) => parseRtcp(r.bytes));
  await waitFor(() => reports().length >= 1, 1000, "a periodic report");
  await muxed.close();
  await waitFor(() => reports().some((packets) => packets.some((p) => p.type === "bye")));
  assertEquals(reports()[0][0].type, "rr");
});

/** The caller's RTCP BYE for its SSRC 0x1111. */
const callerBye = (reason: string) =>
  serializeRtcp([{ type: "rr", ssrc: 0x1111, reports: [] }, {
    type: "bye",
    ssrcs: [0x1111],
    reason,
  }]);

Deno.test("a spoofed RTCP BYE from the caller's host but an unlatched port neither ends nor disturbs the stream; the caller's own BYE does", async () => {
  using caller = new RawPeer();
  using callerRtcp = new RawPeer();
  using intruder = new RawPeer(); // same host (127.0.0.1), another port
  await using session = await open({
    remote: { hostname: "127.0.0.1", port: caller.port, rtcpPort: callerRtcp.port },
  });
  const frames = collect(session);
  const byes: (string | undefined)[] = [];
  session.on("bye", (reason) => byes.push(reason));
  await caller.send(session.localPort, { sequenceNumber: 1 });
  await waitFor(() => frames.length === 1, 5000, "the caller's first frame");
  await intruder.sendRaw(session.localRtcpPort, callerBye("spoofed"));
  await waitFor(() => session.stats.rtcpReceived === 1, 5000, "the spoofed BYE");
  assertEquals(session.stats.wrongSource, 1);
  await caller.send(session.localPort, { sequenceNumber: 2 });
  await waitFor(() => frames.length === 2, 5000, "the caller's next frame");
  assertEquals(byes, []);
  assert(!session.closed);
  await callerRtcp.sendRaw(session.localRtcpPort, callerBye("hangup"));
  await waitFor(() => byes.length === 1, 5000, "the caller's BYE");
  assertEquals(byes, ["hangup"]);
});

Deno.test("with rtcp-mux a spoofed RTCP BYE from another port is ignored; the latched source's BYE counts", async () => {
  using caller = new RawPeer();
  using intruder = new RawPeer();
  await using session = await open({ rtcpMux: true }); // no SDP remote: latches the first RTP
  const frames = collect(session);
  const byes: (string | undefined)[] = [];
  session.on("bye", (reason) => byes.push(reason));
  // Before any RTP latched, nobody is trusted: not even the later caller's BYE would count.
  await intruder.sendRaw(session.localPort, callerBye("before latching"));
  await waitFor(() => session.stats.rtcpReceived === 1, 5000, "the early BYE");
  await caller.send(session.localPort, { sequenceNumber: 1 });
  await waitFor(() => frames.length === 1, 5000, "the caller's first frame");
  await intruder.sendRaw(session.localPort, callerBye("spoofed"));
  await waitFor(() => session.stats.rtcpReceived === 2, 5000, "the spoofed BYE");
  assertEquals(session.stats.wrongSource, 2);
  assertEquals(byes, []);
  await caller.send(session.localPort, { sequenceNumber: 2 });
  await waitFor(() => frames.length === 2, 5000, "the caller's next frame");
  await caller.sendRaw(session.localPort, callerBye("hangup"));
  await waitFor(() => byes.length === 1, 5000, "the caller's BYE");
  assertEquals(byes, ["hangup"]);
});

Deno.test("session listeners add up: each gets every frame, and one disposed stops alone", async () => {
  await using session = await open();
  using far = new RawPeer();
  const a: number[] = [], b: number[] = [];
  const first = session.on("audio", (f) => a.push(f.sequence));
  using _second = session.on("audio", (f) => b.push(f.sequence));
  using _thrower = session.on("audio", () => {
    throw new Error("a broken listener");
  });
  await far.send(session.localPort, { sequenceNumber: 1 });
  await waitFor(() => b.length === 1);
  first[Symbol.dispose]();
  first[Symbol.dispose](); // twice: a no-op
  await far.send(session.localPort, { sequenceNumber: 2 });
  await waitFor(() => b.length === 2);
  assertEquals(a, [1]);
  assertEquals(b, [1, 2]);
});

Deno.test("audio that came before anyone listened reaches the first listener, in order", async () => {
  await using session = await open();
  using far = new RawPeer();
  for (const seq of [40, 41, 42]) await far.send(session.localPort, { sequenceNumber: seq });
  // A leg still starting (a store write before the answer's report): nobody listens yet.
  await waitFor(() => session.stats.packetsReceived === 3, 2000, "three packets received");
  const frames = collect(session); // delivered synchronously, before any later packet
  assertEquals(frames.map((f) => f.sequence), [40, 41, 42]);
  await far.send(session.localPort, { sequenceNumber: 43 });
  await waitFor(() => frames.length === 4, 2000, "the next packet");
  assertEquals(frames.map((f) => f.sequence), [40, 41, 42, 43]);
  // Only the first listener gets them; a second one starts with what comes next.
  const second = collect(session);
  assertEquals(second.length, 0);
  assertEquals(session.stats.earlyAudioDropped, 0);
});

Deno.test("early audio is bounded: over a second of it, the oldest is dropped and counted", async () => {
  await using session = await open();
  using far = new RawPeer();
  for (let seq = 0; seq < 60; seq++) await far.send(session.localPort, { sequenceNumber: seq });
  await waitFor(() => session.stats.packetsReceived === 60, 2000, "sixty packets received");
  const frames = collect(session);
  assertEquals(frames.map((f) => f.sequence), Array.from({ length: 50 }, (_, i) => i + 10));
  assertEquals(session.stats.earlyAudioDropped, 10);
});

Deno.test("packets held behind a gap are delivered on flushReceived and on close, not dropped", async () => {
  await using session = await open({ maxReorderDelayMs: 60_000 });
  using far = new RawPeer();
  const frames = collect(session);
  for (const seq of [1, 3, 4]) await far.send(session.localPort, { sequenceNumber: seq });
  await waitFor(() => session.stats.packetsReceived === 3, 2000, "three packets received");
  assertEquals(frames.map((f) => f.sequence), [1]); // 3 and 4 wait for 2
  session.flushReceived();
  assertEquals(frames.map((f) => f.sequence), [1, 3, 4]);
  for (const seq of [5, 7]) await far.send(session.localPort, { sequenceNumber: seq });
  await waitFor(() => session.stats.packetsReceived === 5, 2000, "two more packets");
  assertEquals(frames.length, 4);
  await session.close();
  assertEquals(frames.map((f) => f.sequence), [1, 3, 4, 5, 7]);
});
