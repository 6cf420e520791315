import { assertEquals } from "@std/assert";
import { opusPacketSamples } from "../../src/codecs/opus_packet.ts";

// The assertions of the two former copies (tests/rtp/packet_test.ts, the recorder's ogg test).
Deno.test("Opus packet durations come from the TOC byte", () => {
  assertEquals(opusPacketSamples(Uint8Array.of(0x08)), 960); // SILK NB 20 ms
  assertEquals(opusPacketSamples(Uint8Array.of(0x09)), 1920); // two 20 ms frames
  assertEquals(opusPacketSamples(Uint8Array.of(0xf8)), 960); // CELT FB 20 ms
  assertEquals(opusPacketSamples(Uint8Array.of(0x78, 0, 0)), 960); // hybrid FB 20 ms
  assertEquals(opusPacketSamples(Uint8Array.of(0x0b, 3)), 2880); // code 3, 3 frames
  assertEquals(opusPacketSamples(Uint8Array.of(0x0b)), undefined); // code 3, no count
  assertEquals(opusPacketSamples(Uint8Array.of(0x0b, 0)), undefined); // zero frames
  assertEquals(opusPacketSamples(Uint8Array.of(0x0b, 7)), undefined); // 140 ms > 120
  assertEquals(opusPacketSamples(new Uint8Array(0)), undefined);
});
