import {
  assert,
  assertEquals,
  assertGreater,
  assertInstanceOf,
  assertLess,
  assertThrows,
} from "@std/assert";
import { CodecError } from "../../src/codecs/error.ts";
import {
  createOpusDecoder,
  createOpusEncoder,
  type OpusBackend,
  opusNativeAvailability,
  type OpusSampleRate,
} from "../../src/codecs/opus.ts";
import { requireOrSkip } from "../_lib/env.ts";
import { align, chunks, concat, readFixture, rms, tone } from "./_signal.ts";

/**
 * Thresholds for speech through Opus at 24 kbit/s, 20 ms frames, complexity 5, measured
 * on the fixtures (delay-aligned): correlation 0.94–0.97 and waveform SNR 9.6–11.6 dB on
 * both backends. Opus is a perceptual codec, so waveform SNR is modest by design; the
 * thresholds leave ~2 dB of margin for other libopus versions.
 */
const MIN_CORRELATION = 0.9;
const MIN_SNR_DB = 7;

const NATIVE = opusNativeAvailability();
const BACKENDS: readonly OpusBackend[] = ["native", "wasm"];

function needs(backend: OpusBackend): boolean {
  return backend === "wasm" ||
    requireOrSkip(NATIVE.available, `native libopus unavailable: ${NATIVE.reason}`);
}

function encodeAll(samples: Int16Array, rate: OpusSampleRate, backend: OpusBackend): Uint8Array[] {
  using encoder = createOpusEncoder({ sampleRate: rate, backend, bitrate: 24000 });
  const frame = rate / 50;
  return chunks(samples, frame).filter((c) => c.length === frame).map((c) => encoder.encode(c));
}

function decodeAll(packets: Uint8Array[], rate: OpusSampleRate, backend: OpusBackend): Int16Array {
  using decoder = createOpusDecoder({ sampleRate: rate, backend });
  return concat(packets.map((p) => decoder.decode(p)));
}

for (const [file, rate] of [["speech-48k.wav", 48000], ["speech-16k.wav", 16000]] as const) {
  for (const backend of BACKENDS) {
    Deno.test(`opus ${backend} round trip of ${file} keeps the speech`, () => {
      if (!needs(backend)) return;
      const { samples } = readFixture(file);
      const decoded = decodeAll(encodeAll(samples, rate, backend), rate, backend);
      const { lag, correlation, snrDb } = align(samples, decoded, rate / 100);
      // libopus's algorithmic delay is 6.5 ms (312 samples at 48 kHz).
      assertGreater(lag, 0);
      assertLess(lag, rate * 0.008);
      assertGreater(correlation, MIN_CORRELATION);
      assertGreater(snrDb, MIN_SNR_DB);
    });
  }

  Deno.test(`opus packets of ${file} decode on the other backend`, () => {
    if (!needs("native")) return;
    const { samples } = readFixture(file);
    for (const [from, to] of [["native", "wasm"], ["wasm", "native"]] as const) {
      const decoded = decodeAll(encodeAll(samples, rate, from), rate, to);
      const { correlation, snrDb } = align(samples, decoded, rate / 100);
      assertGreater(correlation, MIN_CORRELATION, `${from} → ${to}`);
      assertGreater(snrDb, MIN_SNR_DB, `${from} → ${to}`);
    }
  });
}

for (const backend of BACKENDS) {
  Deno.test(`opus ${backend} conceals lost packets with frames of the last size, fading out`, () => {
    if (!needs(backend)) return;
    const { samples } = readFixture("speech-16k.wav");
    using encoder = createOpusEncoder({ sampleRate: 16000, backend });
    using decoder = createOpusDecoder({ sampleRate: 16000, backend });
    // 40 ms frames, so that "the last frame size" differs from the 20 ms default.
    const frames = chunks(samples, 640).filter((c) => c.length === 640);
    let loudest = 0;
    for (let i = 1; i < 60; i++) if (rms(frames[i]) > rms(frames[loudest])) loudest = i;
    let last: Int16Array = new Int16Array(0);
    for (let i = 0; i <= loudest; i++) last = decoder.decode(encoder.encode(frames[i]));
    assertEquals(decoder.lastFrameSize, 640);
    const concealed = Array.from({ length: 6 }, () => decoder.decode(null));
    for (const frame of concealed) assertEquals(frame.length, 640);
    const levels = concealed.map((f) => rms(f));
    assertGreater(levels[0], 0.05 * rms(last), "the first concealed frame continues the speech");
    assertLess(levels[5], 0.5 * levels[0], `energy decays: ${levels.map(Math.round)}`);
    // An empty packet is a loss too.
    assertEquals(decoder.decode(new Uint8Array(0)).length, 640);
    // The decoder goes on after the losses.
    assertEquals(decoder.decode(encoder.encode(frames[loudest + 1])).length, 640);
  });

  Deno.test(`opus ${backend} survives corrupt packets with CodecError and keeps decoding`, () => {
    if (!needs(backend)) return;
    const { samples } = readFixture("speech-16k.wav");
    const packets = encodeAll(samples, 16000, backend);
    using decoder = createOpusDecoder({ sampleRate: 16000, backend });
    const half = packets.length >> 1;
    const out: Int16Array[] = [];
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
    let rejected = 0, accepted = 0;
    for (let i = 0; i < packets.length; i++) {
      out.push(decoder.decode(packets[i]));
      if (i >= half || i % 5 !== 2) continue;
      // Random bytes (often a syntactically valid packet of noise), a reserved TOC, zeros.
      const junk = Uint8Array.from({ length: 1 + (random() % 600) }, () => random() & 0xff);
      for (const bad of [junk, new Uint8Array([0xff, 0xff, 0xff, 0xff]), new Uint8Array(2000)]) {
        try {
          const pcm = decoder.decode(bad);
          assertEquals(pcm.length % 1, 0);
          accepted++;
        } catch (error) {
          assertInstanceOf(error, CodecError);
          assertEquals(error.code, "invalid_packet");
          rejected++;
        }
      }
    }
    assertGreater(rejected, 0);
    // After the corrupt stretch the decoder is as good as ever (same threshold as clean).
    const offset = half * 320;
    const { correlation } = align(samples.subarray(offset), concat(out).subarray(offset), 320);
    assertGreater(correlation, MIN_CORRELATION, `${accepted} junk packets decoded as noise`);
  });

  Deno.test(`opus ${backend} instances close idempotently and refuse use after close`, () => {
    if (!needs(backend)) return;
    const encoder = createOpusEncoder({ sampleRate: 8000, backend });
    const decoder = createOpusDecoder({ sampleRate: 8000, backend });
    assertEquals(encoder.backend, backend);
    assertEquals(decoder.backend, backend);
    encoder.close();
    encoder[Symbol.dispose]();
    decoder.close();
    decoder.close();
    assertEquals(
      assertThrows(() => encoder.encode(new Int16Array(160)), CodecError).code,
      "closed",
    );
    assertEquals(assertThrows(() => decoder.decode(null), CodecError).code, "closed");
  });

  Deno.test(`opus ${backend} stereo keeps the two channels apart`, () => {
    if (!needs(backend)) return;
    using encoder = createOpusEncoder({
      sampleRate: 48000,
      channels: 2,
      application: "audio",
      bitrate: 96000,
      backend,
    });
    using decoder = createOpusDecoder({ sampleRate: 48000, channels: 2, backend });
    const left = tone(440, 48000, 48000), right = tone(1000, 48000, 48000, 3000);
    const stereo = new Int16Array(96000);
    for (let i = 0; i < 48000; i++) [stereo[2 * i], stereo[2 * i + 1]] = [left[i], right[i]];
    const out = concat(chunks(stereo, 1920).map((c) => decoder.decode(encoder.encode(c))));
    const l = out.filter((_, i) => i % 2 === 0), r = out.filter((_, i) => i % 2 === 1);
    assertGreater(align(left, l, 480).correlation, 0.95);
    assertGreater(align(right, r, 480).correlation, 0.95);
  });

  Deno.test(`opus ${backend} DTX sends 1-byte packets in silence after 200 ms`, () => {
    if (!needs(backend)) return;
    const sizes = (dtx: boolean) => {
      using encoder = createOpusEncoder({ sampleRate: 16000, dtx, backend });
      return Array.from({ length: 60 }, () => encoder.encode(new Int16Array(320)).length);
    };
    // Measured: 10 frames of 8 bytes, then 1-byte packets with an 8-byte refresh every 400 ms.
    const tiny = sizes(true).slice(10).filter((n) => n <= 2).length;
    assertGreater(tiny, 45);
    assertEquals(sizes(false).filter((n) => n <= 2).length, 0);
  });
}

Deno.test("opus factories pick native when libopus loads, and say so", () => {
  using encoder = createOpusEncoder({ sampleRate: 48000 });
  using decoder = createOpusDecoder({ sampleRate: 48000 });
  const expected = NATIVE.available ? "native" : "wasm";
  assertEquals(encoder.backend, expected);
  assertEquals(decoder.backend, expected);
  assertEquals(decoder.fecSupported, NATIVE.available);
});

Deno.test("opus options out of range are RangeErrors", () => {
  const bad = [
    { sampleRate: 44100 },
    { sampleRate: 48000, channels: 3 },
    { sampleRate: 48000, complexity: 11 },
    { sampleRate: 48000, bitrate: 100 },
    { sampleRate: 48000, packetLossPercent: 101 },
    { sampleRate: 48000, application: "music" },
    { sampleRate: 48000, maxBandwidth: "ultraband" },
  ];
  for (const options of bad) {
    // deno-lint-ignore no-explicit-any
    assertThrows(() => createOpusEncoder({ backend: "wasm", ...options } as any), RangeError);
  }
  using encoder = createOpusEncoder({ sampleRate: 48000, backend: "wasm" });
  assertThrows(() => encoder.encode(new Int16Array(1000)), RangeError, "not a 2.5–60 ms frame");
  for (const size of [120, 240, 480, 960, 1920, 2880]) {
    assert(encoder.encode(new Int16Array(size)).length > 0);
  }
});
