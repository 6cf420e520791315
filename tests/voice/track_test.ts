import { assertEquals, assertThrows } from "@std/assert";
import { callNamespace, parseSid, sidOf, voiceCodecOf } from "../../src/voice/mod.ts";

Deno.test("sids are validated and map to the voice namespace and back", () => {
  const sid = parseSid("CA_01-x");
  assertEquals(callNamespace(sid), ["voice", "CA_01-x"]);
  assertEquals(sidOf(["voice", "CA_01-x"]), sid);
  assertEquals(sidOf(["video", "CA1"]), undefined);
  assertEquals(sidOf(["voice", "a", "b"]), undefined);
  for (const bad of ["", "-x", "a/b", "a".repeat(65), "ünï"]) {
    assertThrows(() => parseSid(bad), TypeError);
  }
});

Deno.test("voice capability tags name their codec", () => {
  assertEquals(voiceCodecOf("voice/opus"), "opus");
  assertEquals(voiceCodecOf("voice/g711_ulaw"), "g711_ulaw");
  assertEquals(voiceCodecOf("video/h264"), undefined);
  assertEquals(voiceCodecOf(undefined), undefined);
});
