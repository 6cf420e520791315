import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { CodecError } from "../../src/codecs/error.ts";
import { decodeWav, encodeWav, WAV_HEADER_BYTES, wavHeader } from "../../src/codecs/wav.ts";
import { FIXTURES } from "./_signal.ts";

Deno.test("wav reads the speech fixtures with their rate and length", () => {
  for (const [name, rate] of [["speech-8k.wav", 8000], ["speech-48k.wav", 48000]] as const) {
    const audio = decodeWav(Deno.readFileSync(`${FIXTURES}/${name}`));
    assertEquals(audio.sampleRate, rate);
    assertEquals(audio.channels, 1);
    // 4.99 s as sox reports it.
    assertAlmostEquals(audio.samples.length / rate, 4.99, 0.01);
  }
});

Deno.test("wav writes stereo that reads back identically", () => {
  const samples = Int16Array.from({ length: 2000 }, (_, i) => (i * 37) % 65536 - 32768);
  const file = encodeWav({ sampleRate: 48000, channels: 2, samples });
  assertEquals(file.length, WAV_HEADER_BYTES + 4000);
  const back = decodeWav(file);
  assertEquals(back.sampleRate, 48000);
  assertEquals(back.channels, 2);
  assertEquals(back.samples, samples);
});

Deno.test("wav reads a streamed file whose data size was left at zero", () => {
  const header = wavHeader({ sampleRate: 8000, channels: 1, dataBytes: 0 });
  const file = new Uint8Array(header.length + 6);
  file.set(header);
  file.set([1, 0, 2, 0, 3, 0], header.length);
  assertEquals(Array.from(decodeWav(file).samples), [1, 2, 3]);
});

Deno.test("wav rejects hostile and unsupported input with CodecError only", () => {
  const good = encodeWav({ sampleRate: 8000, channels: 1, samples: new Int16Array(10) });
  const float = good.slice();
  float[20] = 3; // WAVE_FORMAT_IEEE_FLOAT
  const cases = [
    new Uint8Array(0),
    new TextEncoder().encode("RIFF\0\0\0\0WAVEjunk"),
    good.slice(0, 30),
    float,
    good.slice(0, 36), // fmt but no data chunk
  ];
  for (const bytes of cases) {
    const error = assertThrows(() => decodeWav(bytes), CodecError);
    assertEquals(error.code, "invalid_wav");
  }
  // Random bytes after a valid RIFF tag never escape as anything else.
  for (let seed = 1; seed < 200; seed++) {
    const junk = Uint8Array.from({ length: 64 }, (_, i) => (seed * 7919 + i * 104729) & 0xff);
    junk.set(new TextEncoder().encode("RIFF\0\0\0\0WAVE"));
    try {
      decodeWav(junk);
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
    }
  }
});
