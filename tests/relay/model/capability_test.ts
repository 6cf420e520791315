import { assertEquals, assertThrows } from "@std/assert";
import { parseCapabilityPattern } from "../../../src/relay/model/capability.ts";

Deno.test("capability patterns match exact tags, prefixes and everything", () => {
  const all = parseCapabilityPattern("*");
  const voice = parseCapabilityPattern("voice/*");
  const pcm = parseCapabilityPattern("voice/pcm16");
  assertEquals([all.matches("voice/opus"), all.matches(undefined)], [true, false]);
  assertEquals([voice.matches("voice/opus"), voice.matches("voicex/opus")], [true, false]);
  assertEquals([pcm.matches("voice/pcm16"), pcm.matches("voice/pcm")], [true, false]);
});

Deno.test("malformed capability patterns are rejected with TypeError", () => {
  for (const bad of ["", "voice/", "/*", "voice//opus", "voice/op us", "a".repeat(300)]) {
    assertThrows(() => parseCapabilityPattern(bad), TypeError);
  }
});
