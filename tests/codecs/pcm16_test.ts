import { assertEquals, assertThrows } from "@std/assert";
import {
  deinterleave,
  interleave,
  monoToStereo,
  pcm16FromBytes,
  pcm16ToBytes,
  remixChannels,
  stereoToMono,
} from "../../src/codecs/pcm16.ts";

Deno.test("pcm16 reads and writes little-endian bytes, including extremes", () => {
  const bytes = new Uint8Array([0x00, 0x80, 0xff, 0x7f, 0x01, 0x00, 0xff, 0xff]);
  const pcm = pcm16FromBytes(bytes);
  assertEquals(Array.from(pcm), [-32768, 32767, 1, -1]);
  assertEquals(pcm16ToBytes(pcm), bytes);
});

Deno.test("pcm16 reads from an unaligned view without sharing its buffer", () => {
  const backing = new Uint8Array([9, 0x34, 0x12, 0xcd, 0xab]);
  const pcm = pcm16FromBytes(backing.subarray(1));
  assertEquals(Array.from(pcm), [0x1234, 0xabcd - 0x10000]);
  backing[1] = 0;
  assertEquals(pcm[0], 0x1234);
});

Deno.test("pcm16 rejects an odd number of bytes", () => {
  assertThrows(() => pcm16FromBytes(new Uint8Array(3)), RangeError, "odd byte length");
});

Deno.test("pcm16 deinterleaves and interleaves back to the same samples", () => {
  const lr = Int16Array.from({ length: 20 }, (_, i) => i * (i % 2 ? -1 : 1));
  const planes = deinterleave(lr, 2);
  assertEquals(Array.from(planes[0]), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  assertEquals(interleave(planes), lr);
  assertEquals(deinterleave(lr, 1)[0], lr);
});

Deno.test("pcm16 rejects channel layouts that do not fit", () => {
  assertThrows(() => deinterleave(new Int16Array(5), 2), RangeError);
  assertThrows(() => deinterleave(new Int16Array(4), 0), RangeError);
  assertThrows(() => interleave([new Int16Array(2), new Int16Array(3)]), RangeError);
  assertThrows(() => interleave([]), RangeError);
  assertThrows(() => remixChannels(new Int16Array(6), 3, 1), RangeError);
});

Deno.test("pcm16 stereo to mono averages without overflow at full scale", () => {
  const mono = stereoToMono(new Int16Array([32767, 32767, -32768, -32768, 32767, -32768, 3, 4]));
  assertEquals(Array.from(mono), [32767, -32768, -1, 3]);
});

Deno.test("pcm16 mono to stereo duplicates and remixing back is lossless", () => {
  const mono = new Int16Array([1, -2, 300]);
  const stereo = monoToStereo(mono);
  assertEquals(Array.from(stereo), [1, 1, -2, -2, 300, 300]);
  assertEquals(remixChannels(stereo, 2, 1), mono);
  assertEquals(remixChannels(mono, 1, 1), mono);
});
