import { assertEquals, assertGreater, assertLess, assertRejects, assertThrows } from "@std/assert";
import { CodecError } from "../../src/codecs/error.ts";
import { createResampler, RESAMPLER_RATES } from "../../src/codecs/resampler.ts";
import { align, chunks, concat, db, readFixture, rms, tone } from "./_signal.ts";

Deno.test("resampler keeps a 1 kHz tone's level within 0.5 dB through 48k → 8k → 48k", async () => {
  using down = await createResampler({ inputRate: 48000, outputRate: 8000 });
  using up = await createResampler({ inputRate: 8000, outputRate: 48000 });
  const input = tone(1000, 48000, 48000);
  const output = concat(chunks(input, 960).map((frame) => up.process(down.process(frame))));
  assertEquals(output.length, input.length);
  const level = db(rms(output, 4800), rms(input, 4800)); // skip the filters' start-up
  assertLess(Math.abs(level), 0.5, `level change ${level.toFixed(3)} dB`);
  assertGreater(align(input, output, 480).correlation, 0.999);
});

Deno.test("resampler attenuates a 6 kHz tone by at least 60 dB going from 48 kHz to 8 kHz", async () => {
  for (const quality of [3, 4, 5]) {
    using down = await createResampler({ inputRate: 48000, outputRate: 8000, quality });
    const input = tone(6000, 48000, 48000, 30000);
    const output = down.process(input);
    const attenuation = db(rms(input), Math.max(rms(output, 800), 1e-9));
    assertGreater(attenuation, 60, `quality ${quality}: ${attenuation.toFixed(1)} dB`);
  }
});

Deno.test("resampler output does not depend on how the input is chunked (no clicks at edges)", async () => {
  const { samples } = readFixture("speech-48k.wav");
  for (const [inputRate, outputRate] of [[48000, 8000], [48000, 16000], [48000, 24000]] as const) {
    using whole = await createResampler({ inputRate, outputRate });
    using chunked = await createResampler({ inputRate, outputRate });
    const oneShot = whole.process(samples);
    const parts: Int16Array[] = [];
    const sizes = [960, 1, 7, 480, 4801, 333, 12000];
    for (let at = 0, k = 0; at < samples.length; k++) {
      const size = sizes[k % sizes.length] * (inputRate / 48000);
      parts.push(chunked.process(samples.subarray(at, at + size)));
      at += size;
    }
    const pieces = concat(parts);
    const n = Math.min(pieces.length, oneShot.length);
    assertGreater(n, oneShot.length - 10);
    assertEquals(pieces.subarray(0, n), oneShot.subarray(0, n), `${inputRate} → ${outputRate}`);
  }
});

Deno.test("resampler turns every 20 ms frame into exactly 20 ms for every rate pair", async () => {
  for (const inputRate of RESAMPLER_RATES) {
    for (const outputRate of RESAMPLER_RATES) {
      using resampler = await createResampler({ inputRate, outputRate });
      for (let k = 0; k < 5; k++) {
        const out = resampler.process(tone(440, inputRate, inputRate / 50));
        assertEquals(out.length, outputRate / 50, `${inputRate} → ${outputRate}`);
      }
    }
  }
});

Deno.test("resampler handles stereo and keeps the channels apart", async () => {
  using resampler = await createResampler({ inputRate: 16000, outputRate: 48000, channels: 2 });
  const left = tone(500, 16000, 16000), right = tone(1500, 16000, 16000, 2000);
  const lr = new Int16Array(32000);
  for (let i = 0; i < 16000; i++) [lr[2 * i], lr[2 * i + 1]] = [left[i], right[i]];
  const out = resampler.process(lr);
  assertEquals(out.length, 96000);
  const l = out.filter((_, i) => i % 2 === 0), r = out.filter((_, i) => i % 2 === 1);
  assertGreater(align(tone(500, 48000, 48000), l, 240).correlation, 0.999);
  assertGreater(align(tone(1500, 48000, 48000), r, 240).correlation, 0.999);
});

Deno.test("resampler closes idempotently, refuses use after close, rejects bad options", async () => {
  const resampler = await createResampler({ inputRate: 8000, outputRate: 16000 });
  resampler.close();
  resampler[Symbol.dispose]();
  assertEquals(
    assertThrows(() => resampler.process(new Int16Array(160)), CodecError).code,
    "closed",
  );
  const cdRate = 44100 as unknown as 8000;
  await assertRejects(
    () => createResampler({ inputRate: cdRate, outputRate: 8000 }),
    RangeError,
  );
  await assertRejects(
    () => createResampler({ inputRate: 8000, outputRate: 16000, quality: 11 }),
    RangeError,
  );
  using same = await createResampler({ inputRate: 16000, outputRate: 16000 });
  const input = tone(100, 16000, 320);
  assertEquals(same.process(input), input);
});
