import { assertEquals } from "@std/assert";
import { createOpusDecoder, createOpusEncoder } from "../../src/codecs/opus.ts";
import { tone } from "./_signal.ts";

Deno.test("opus wasm gives identical packets from 150 live encoders (opusscript heap-address bug)", () => {
  // opusscript's own wrapper addresses HEAPU16 with byte offsets, so live instances
  // overwrite each other and ~80 of them throw RangeError; this backend must not.
  const frame = tone(440, 48000, 960);
  const encoders = Array.from(
    { length: 150 },
    () => createOpusEncoder({ sampleRate: 48000, backend: "wasm" }),
  );
  try {
    const expected: Uint8Array[] = [];
    for (let k = 0; k < 3; k++) {
      const packets = encoders.map((e) => e.encode(frame));
      expected.push(packets[0]);
      for (const packet of packets) assertEquals(packet, expected[k]);
    }
  } finally {
    for (const encoder of encoders) encoder.close();
  }
});

Deno.test("opus wasm has no FEC decoding and conceals instead, one frame long", () => {
  using encoder = createOpusEncoder({ sampleRate: 8000, fec: true, backend: "wasm" });
  using decoder = createOpusDecoder({ sampleRate: 8000, backend: "wasm" });
  assertEquals(decoder.fecSupported, false);
  const frame = tone(300, 8000, 80); // 10 ms
  decoder.decode(encoder.encode(frame));
  const next = encoder.encode(frame);
  assertEquals(decoder.decodeFec(next).length, 80);
  assertEquals(decoder.decode(null).length, 80);
  assertEquals(decoder.decode(next).length, 80);
});
