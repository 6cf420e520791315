import { assertEquals } from "@std/assert";
import { encodeOggPage, oggCrc32, parseOggPages } from "../../../src/plugins/recorder/ogg.ts";
import { OggOpusStream, opusPacketSamples } from "../../../src/plugins/recorder/ogg_opus.ts";

Deno.test("Ogg CRC-32 matches the reference check value of its parameters", () => {
  // CRC-32/MPEG-2 without the init/xorout: "123456789" → 0x89a1897f (the Ogg variant).
  assertEquals(oggCrc32(new TextEncoder().encode("123456789")), 0x89a1897f);
});

Deno.test("Ogg pages round-trip, long packets span lacing values, a torn page is cut", () => {
  const big = new Uint8Array(600).fill(7);
  const a = encodeOggPage({ flags: 2, granule: 0n, serial: 9, sequence: 0, packets: [big] });
  const b = encodeOggPage({
    flags: 4,
    granule: 960n,
    serial: 9,
    sequence: 1,
    packets: [new Uint8Array([1])],
  });
  const parsed = parseOggPages(new Uint8Array([...a, ...b, ...b.subarray(0, 20)]));
  assertEquals(parsed.packets.map((p) => p.length), [600, 1]);
  assertEquals(parsed.validBytes, a.length + b.length);
  const corrupt = new Uint8Array([...a, ...b]);
  corrupt[a.length + 28] ^= 1; // the second page's one body byte
  assertEquals(parseOggPages(corrupt).badCrc, 1);
});

Deno.test("Opus packet durations come from the TOC; gaps become concealable TOC-only packets", () => {
  assertEquals(opusPacketSamples(new Uint8Array([0x08])), 960); // SILK NB 20 ms
  assertEquals(opusPacketSamples(new Uint8Array([0x0b, 0x03])), 2880); // 3 × 20 ms
  assertEquals(opusPacketSamples(new Uint8Array([0x0b])), undefined); // code 3, no count
  const s = new OggOpusStream({ serial: 1 });
  s.headers();
  s.push(new Uint8Array([0x08, 1, 2]));
  s.pushGap(1920);
  const { pages, packets } = parseOggPages(s.end());
  assertEquals(packets.map((p) => p.length), [3, 1, 1]);
  assertEquals(pages.at(-1)!.granule, 2880n);
});
