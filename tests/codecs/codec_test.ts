import { assertEquals, assertThrows } from "@std/assert";
import { capabilityOf, codecOf, CODECS, isCodec } from "../../src/codecs/codec.ts";

Deno.test("codec names map to voice capability tags and back", () => {
  assertEquals(CODECS.map(capabilityOf), [
    "voice/opus",
    "voice/g711_ulaw",
    "voice/g711_alaw",
    "voice/pcm16",
  ]);
  for (const codec of CODECS) assertEquals(codecOf(capabilityOf(codec)), codec);
});

Deno.test("codec lookups reject unknown names and tags", () => {
  assertEquals(isCodec("g729"), false);
  assertEquals(isCodec(undefined), false);
  assertThrows(() => codecOf("voice/g729"), RangeError, "voice/g729");
  assertThrows(() => codecOf("video/opus"), RangeError);
  assertThrows(() => codecOf("opus"), RangeError);
  // deno-lint-ignore no-explicit-any
  assertThrows(() => capabilityOf("speex" as any), RangeError);
});
