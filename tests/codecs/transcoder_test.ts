import { assertEquals, assertGreater, assertLess, assertRejects, assertThrows } from "@std/assert";
import { CodecError } from "../../src/codecs/error.ts";
import { decodeUlaw, encodeUlaw } from "../../src/codecs/g711.ts";
import { createOpusDecoder } from "../../src/codecs/opus.ts";
import { pcm16FromBytes } from "../../src/codecs/pcm16.ts";
import { createResampler } from "../../src/codecs/resampler.ts";
import { createTranscoder } from "../../src/codecs/transcoder.ts";
import { align, chunks, concat, readFixture, rms } from "./_signal.ts";

/**
 * Measured: µ-law → PCM16 16 kHz correlates 0.99 with the 16 kHz fixture (same
 * rendering); µ-law → Opus → µ-law correlates ~0.95 with the source.
 */
const MIN_PCM_CORRELATION = 0.97;
const MIN_OPUS_CORRELATION = 0.9;

function ulawFrames(): Uint8Array[] {
  const { samples } = readFixture("speech-8k.wav");
  return chunks(encodeUlaw(samples), 160).filter((c) => c.length === 160);
}

Deno.test("transcoder µ-law 8 kHz → PCM16 16 kHz keeps the speech", async () => {
  using transcoder = await createTranscoder({
    from: { codec: "g711_ulaw", sampleRate: 8000, frameMs: 20 },
    to: { codec: "pcm16", sampleRate: 16000, frameMs: 20 },
  });
  const payloads = ulawFrames().flatMap((frame) => transcoder.transcode(frame));
  for (const payload of payloads) assertEquals(payload.length, 640);
  const out = concat(payloads.map(pcm16FromBytes));
  const reference = readFixture("speech-16k.wav").samples;
  const { correlation } = align(reference, out, 320);
  assertGreater(correlation, MIN_PCM_CORRELATION);
  assertEquals(transcoder.stats.decoded, ulawFrames().length);
});

Deno.test("transcoder µ-law 8 kHz → Opus 48 kHz → µ-law keeps the speech, both directions", async () => {
  using toWeb = await createTranscoder({
    from: { codec: "g711_ulaw", sampleRate: 8000, frameMs: 20 },
    to: { codec: "opus", sampleRate: 48000, frameMs: 20 },
  });
  using toPhone = await createTranscoder({
    from: { codec: "opus", sampleRate: 48000, frameMs: 20 },
    to: { codec: "g711_ulaw", sampleRate: 8000, frameMs: 20 },
  });
  // Narrowband sources run Opus at an 8 kHz API rate on both sides.
  assertEquals(toWeb.opusRate, 8000);
  assertEquals(toPhone.opusRate, 8000);
  const frames = ulawFrames();
  const packets = frames.flatMap((frame) => toWeb.transcode(frame));
  assertEquals(packets.length, frames.length);
  const back = packets.flatMap((packet) => toPhone.transcode(packet));
  for (const frame of back) assertEquals(frame.length, 160);
  const source = decodeUlaw(concatBytes(frames));
  const { correlation, lag } = align(source, decodeUlaw(concatBytes(back)), 160);
  assertGreater(correlation, MIN_OPUS_CORRELATION);
  assertLess(lag, 80); // under 10 ms of codec delay at 8 kHz

  // What a WebRTC peer does: decode the same packets at 48 kHz.
  using browser = createOpusDecoder({ sampleRate: 48000 });
  const wideband = concat(packets.map((p) => browser.decode(p)));
  assertEquals(wideband.length, frames.length * 960);
  // Against the narrowband source brought to 48 kHz (the 48 kHz fixture has content above
  // 4 kHz that a µ-law leg never carried).
  using up = await createResampler({ inputRate: 8000, outputRate: 48000 });
  const reference = up.process(source);
  assertGreater(align(reference, wideband, 960).correlation, MIN_OPUS_CORRELATION);
});

Deno.test("transcoder reframes 20 ms PCM16 at 48 kHz into 60 ms Opus and flushes the rest", async () => {
  using transcoder = await createTranscoder({
    from: { codec: "pcm16", sampleRate: 48000, frameMs: 20 },
    to: { codec: "opus", sampleRate: 48000, frameMs: 60 },
  });
  const frame = new Uint8Array(1920);
  const counts = Array.from({ length: 7 }, () => transcoder.transcode(frame).length);
  assertEquals(counts, [0, 0, 1, 0, 0, 1, 0]);
  assertEquals(transcoder.flush().length, 1);
  assertEquals(transcoder.flush().length, 0);
});

Deno.test("transcoder conceals a missing Opus frame and an undecodable one", async () => {
  using transcoder = await createTranscoder({
    from: { codec: "opus", sampleRate: 48000, frameMs: 20 },
    to: { codec: "pcm16", sampleRate: 16000, frameMs: 20 },
  });
  using toWeb = await createTranscoder({
    from: { codec: "g711_ulaw", sampleRate: 8000, frameMs: 20 },
    to: { codec: "opus", sampleRate: 48000, frameMs: 20 },
  });
  const packets = ulawFrames().slice(0, 40).flatMap((f) => toWeb.transcode(f));
  for (const packet of packets.slice(0, 30)) transcoder.transcode(packet);
  const lost = transcoder.transcode(null);
  const corrupt = transcoder.transcode(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  assertEquals(lost.length, 1);
  assertEquals(lost[0].length, 640);
  assertEquals(corrupt[0].length, 640);
  assertEquals(transcoder.stats.concealed, 2);
  assertEquals(transcoder.transcode(packets[30])[0].length, 640);
});

Deno.test("transcoder conceals lost G.711 frames by repeating the last one, fading", async () => {
  using transcoder = await createTranscoder({
    from: { codec: "g711_ulaw", sampleRate: 8000, frameMs: 20 },
    to: { codec: "pcm16", sampleRate: 8000, frameMs: 20 },
  });
  const frames = ulawFrames();
  let loudest = 0;
  for (let i = 0; i < frames.length; i++) {
    if (rms(decodeUlaw(frames[i])) > rms(decodeUlaw(frames[loudest]))) loudest = i;
  }
  const last = pcm16FromBytes(transcoder.transcode(frames[loudest])[0]);
  const levels = [1, 2, 3].map(() => rms(pcm16FromBytes(transcoder.transcode(null)[0])));
  assertGreater(levels[0], 0.4 * rms(last));
  assertLess(levels[2], 0.2 * rms(last));
  assertLess(levels[1], levels[0]);
});

Deno.test("transcoder downmixes stereo PCM16 to mono µ-law", async () => {
  using transcoder = await createTranscoder({
    from: { codec: "pcm16", sampleRate: 16000, channels: 2, frameMs: 20 },
    to: { codec: "g711_ulaw", sampleRate: 8000, frameMs: 20 },
  });
  const stereo = new Int16Array(640).fill(1000);
  const out = [1, 2, 3].flatMap(() => transcoder.transcode(new Uint8Array(stereo.buffer)));
  assertEquals(out.length, 3);
  assertEquals(out[0].length, 160);
});

Deno.test("transcoder rejects unknown codecs, rates and frame sizes with RangeError", async () => {
  const ok = { codec: "pcm16", sampleRate: 16000, frameMs: 20 } as const;
  const bad = [
    { ...ok, codec: "g729" },
    { ...ok, codec: "g711_ulaw" }, // G.711 at 16 kHz
    { ...ok, sampleRate: 44100 },
    { ...ok, frameMs: 30 },
    { ...ok, channels: 6 },
  ];
  for (const format of bad) {
    // deno-lint-ignore no-explicit-any
    await assertRejects(() => createTranscoder({ from: format as any, to: ok }), RangeError);
    // deno-lint-ignore no-explicit-any
    await assertRejects(() => createTranscoder({ from: ok, to: format as any }), RangeError);
  }
});

Deno.test("transcoder closes idempotently and refuses use after close", async () => {
  const transcoder = await createTranscoder({
    from: { codec: "opus", sampleRate: 48000, frameMs: 20 },
    to: { codec: "opus", sampleRate: 48000, frameMs: 20 },
  });
  transcoder.close();
  transcoder.close();
  assertEquals(assertThrows(() => transcoder.transcode(null), CodecError).code, "closed");
});

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
