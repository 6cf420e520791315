import { assertEquals, assertThrows } from "@std/assert";
import {
  callNamespace,
  captureTimeExtension,
  captureTimeOf,
  nowMicros,
  parseSid,
  sidOf,
  voiceCodecOf,
} from "../../src/voice/mod.ts";

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

Deno.test("capture time survives the extension block and garbage yields nothing", () => {
  const t = nowMicros();
  assertEquals(captureTimeOf(captureTimeExtension(t)), t);
  assertEquals(captureTimeOf(undefined), undefined);
  assertEquals(captureTimeOf(Uint8Array.of(0x11, 0x09, 1)), undefined);
});

Deno.test("voice capability tags name their codec", () => {
  assertEquals(voiceCodecOf("voice/opus"), "opus");
  assertEquals(voiceCodecOf("voice/g711_ulaw"), "g711_ulaw");
  assertEquals(voiceCodecOf("video/h264"), undefined);
  assertEquals(voiceCodecOf(undefined), undefined);
});
