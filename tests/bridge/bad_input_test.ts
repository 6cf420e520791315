/**
 * Bad input at the bridge: options refused with typed errors before any network work;
 * wrong-size frames and corrupt Opus concealed and counted, one frame each, never a stall.
 *
 * @module
 */
import {
  assert,
  assertEquals,
  assertGreater,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import {
  attach,
  attachCaller,
  type AttachOptions,
  type BridgeConnection,
} from "../../src/bridge/mod.ts";
import { CodecError } from "../../src/codecs/error.ts";
import { createOpusEncoder } from "../../src/codecs/opus.ts";
import { encodeUlaw } from "../../src/codecs/g711.ts";
import type { Codec } from "../../src/codecs/codec.ts";
import { Origin } from "../../src/relay/model/mod.ts";
import { FRAMES_PER_GROUP } from "../../src/voice/track.ts";
import { startRelay } from "../_lib/relay_fixture.ts";
import { align, chunks, concat, readFixture } from "../codecs/_signal.ts";
import { collect, paced } from "./_pace.ts";
import { quietPeriod } from "../_lib/wait.ts";

/** A connection that records being touched. */
function spyConnection(): BridgeConnection & { calls: number } {
  const spy = {
    calls: 0,
    publish() {
      spy.calls++;
      return Promise.reject(new Error("unreachable"));
    },
    subscribe() {
      spy.calls++;
      return Promise.reject(new Error("unreachable"));
    },
  };
  return spy;
}

Deno.test("attach refuses unknown codecs, rates, channel counts and frame sizes before any network work", async () => {
  const via = spyConnection();
  const bad: [Partial<AttachOptions>, new (...args: never[]) => Error][] = [
    [{ codec: "g729" as Codec }, RangeError],
    [{ codec: "opus", sampleRate: 44100 }, RangeError],
    [{ codec: "g711_ulaw", sampleRate: 16000 }, RangeError],
    [{ codec: "pcm16", channels: 3 }, RangeError],
    [{ codec: "pcm16", channels: 0 }, RangeError],
    [{ frameMs: 25 }, RangeError],
    [{ maxLatencyMs: 0 }, RangeError],
    [{ maxLatencyMs: NaN }, RangeError],
    [{ publishCodec: "speex" as Codec }, RangeError],
    [{ sid: "../etc" }, TypeError],
    [{ sid: "" }, TypeError],
  ];
  for (const [options, ErrorClass] of bad) {
    await assertRejects(() => attach(via, { sid: "CA1", ...options }), ErrorClass);
    await assertRejects(() => attachCaller(via, { sid: "CA1", ...options }), ErrorClass);
  }
  assertEquals(via.calls, 0, "nothing reached the connection");
  await assertRejects(() => attach({} as BridgeConnection, { sid: "CA1" }), TypeError);
});

Deno.test("attach refuses a peer track whose capability names no voice codec, and lets go of it", async () => {
  const origin = new Origin({ subscribeTimeoutMs: 100 });
  const video = origin.publishTrack({
    namespace: ["voice", "CA1"],
    name: "uplink",
    capability: "video/h264",
  });
  const error = await assertRejects(() => attach(origin, { sid: "CA1" }), CodecError);
  assertEquals(error.code, "unsupported");
  assertEquals(video.consumers, 0, "the subscription was closed");
  assertEquals(origin.trackCount, 1, "no downlink was left published");
});

Deno.test("written frames of the wrong size are concealed and counted; misuse is a TypeError", async () => {
  const origin = new Origin();
  await using phone = await attachCaller(origin, { sid: "CA2", codec: "g711_ulaw" });
  await using agent = await attach(origin, { sid: "CA2", codec: "pcm16", sampleRate: 8000 });
  const speech = encodeUlaw(new Int16Array(160).fill(4000));
  phone.write(speech);
  phone.write(new Uint8Array(100)); // wrong size
  phone.write(speech);
  const got = [await agent.read(), await agent.read(), await agent.read()];
  assertEquals(got.map((f) => f?.samples?.length), [160, 160, 160], "one frame each, in step");
  assertEquals(phone.stats.writeErrors, 1);
  assertEquals(phone.stats.sent, 3);
  assert(got[1]!.samples!.every((s) => s === 0), "the bad frame became silence");
  assertThrows(() => phone.write(new Int16Array(160)), TypeError, "samples given");
  assertThrows(() => phone.write("hello" as unknown as Uint8Array), TypeError);
  assertThrows(() => phone.write(speech, NaN), TypeError);
  // A pcm16 bridge takes samples, and checks their count too.
  assertEquals(agent.write(new Int16Array(160)), true);
  assertEquals(agent.write(new Int16Array(7)), true);
  assertEquals(agent.stats.writeErrors, 1);
});

Deno.test("closing a bridge twice is a no-op and ends both tracks", async () => {
  const origin = new Origin();
  const phone = await attachCaller(origin, { sid: "CA3", codec: "pcm16", sampleRate: 16000 });
  const agent = await attach(origin, { sid: "CA3" });
  const reading = agent.read();
  phone.close();
  phone.close();
  await phone[Symbol.asyncDispose]();
  assertStrictEquals(await reading, undefined, "the agent sees the uplink end");
  assertEquals(phone.write(new Int16Array(320)), false, "writes after close are refused");
  assertStrictEquals(await phone.read(), undefined);
  agent.close();
  agent.close();
  await new Promise((r) => setTimeout(r, 0)); // the origin forgets ended tracks a tick later
  assertEquals(origin.trackCount, 0, "both tracks are gone");
});

Deno.test("a caller closed before anyone answers stops waiting for its downlink", async () => {
  const origin = new Origin({ subscribeTimeoutMs: 50 });
  const phone = await attachCaller(origin, { sid: "CA4", codec: "g711_alaw" });
  assertStrictEquals(phone.received, undefined);
  const reading = phone.read();
  await quietPeriod(120); // the read stays pending through a subscribe retry or two (50 ms each)
  phone.close();
  assertStrictEquals(await reading, undefined);
  await assertRejects(() => phone.receiving);
});

Deno.test("corrupt Opus packets each cost one frame through the relay, never the stream", async () => {
  await using fx = await startRelay();
  const sid = "CAcorrupt";
  const speech48k = readFixture("speech-48k.wav").samples.subarray(0, 48000 * 2);
  const reference = readFixture("speech-16k.wav").samples.subarray(0, 16000 * 2);
  using encoder = createOpusEncoder({ sampleRate: 48000, bitrate: 32000 });
  const packets = chunks(speech48k, 960).map((pcm) => encoder.encode(pcm));
  // Every 10th packet is replaced by one libopus refuses (code-3 TOC with 0 frames).
  const corrupt = Uint8Array.of(0xfb, 0x00);
  const sent = packets.map((p, i) => i % 10 === 5 ? corrupt : p);
  const corrupted = sent.filter((p) => p === corrupt).length;

  const client = await fx.client();
  const uplink = await client.publish({
    namespace: ["voice", sid],
    name: "uplink",
    capability: "voice/opus",
  });
  await using agent = await attach(await fx.client(), { sid, codec: "pcm16", sampleRate: 16000 });
  const received = collect(agent, sent.length, 10_000);
  let group = uplink.appendGroup(0);
  await paced(sent.length, 20, (i, capture) => {
    if (i > 0 && i % FRAMES_PER_GROUP === 0) {
      group.close();
      group = uplink.appendGroup(i / FRAMES_PER_GROUP);
    }
    group.write({
      id: i % FRAMES_PER_GROUP,
      payload: sent[i],
      timestamp: Math.round(capture),
    });
  }, { speed: 4 });
  const got = await received;

  assertEquals(got.length, sent.length, "every frame slot was delivered, none stalled");
  assertEquals(agent.stats.transcodeErrors, corrupted);
  assertEquals(
    got.filter((f) => f.concealed).length,
    corrupted,
    "one concealed frame per corrupt packet",
  );
  const { correlation } = align(reference, concat(got.map((f) => f.samples!)), 800);
  console.log(`Opus with 10 % corrupt packets → PCM16: correlation ${correlation.toFixed(4)}`);
  assertGreater(correlation, 0.7);
});

Deno.test("received frames of the wrong size are concealed, one frame each, and counted", async () => {
  const origin = new Origin();
  const uplink = origin.publishTrack({
    namespace: ["voice", "CA5"],
    name: "uplink",
    capability: "voice/g711_ulaw",
  });
  await using agent = await attach(origin, { sid: "CA5", codec: "pcm16", sampleRate: 8000 });
  const group = uplink.appendGroup(0);
  const speech = encodeUlaw(new Int16Array(160).fill(4000));
  const payloads = [speech, new Uint8Array(100), new Uint8Array(0), speech];
  payloads.forEach((payload, id) => group.write({ id, payload }));
  const got = [];
  for (let i = 0; i < payloads.length; i++) got.push(await agent.read());
  assertEquals(got.map((f) => f?.samples?.length), [160, 160, 160, 160]);
  assertEquals(got.map((f) => f?.concealed), [false, true, true, false]);
  assertEquals(agent.stats.transcodeErrors, 2);
  assertEquals(got[3]!.samples![0], got[0]!.samples![0], "the stream goes on undisturbed");
});
