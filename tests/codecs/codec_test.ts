import { assertEquals, assertThrows } from "@std/assert";
import {
  capabilityOf,
  codecInfo,
  codecOf,
  CODECS,
  isCodec,
  RTP_CODECS,
  rtpCodecOfSdp,
  sdpNameOf,
} from "../../src/codecs/codec.ts";

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

Deno.test("codec registry: one entry per codec names it on the voice path and in SDP", () => {
  assertEquals(RTP_CODECS, ["opus", "g711_ulaw", "g711_alaw"]);
  assertEquals(sdpNameOf("g711_ulaw"), {
    name: "PCMU",
    clockRate: 8000,
    channels: 1,
    payloadType: 0,
    static: true,
  });
  assertEquals(sdpNameOf("opus").fmtp, "useinbandfec=1");
  assertEquals(codecInfo("pcm16").sdp, undefined);
  assertEquals(rtpCodecOfSdp({ encoding: "PCMU", clockRate: 8000 }), "g711_ulaw");
  assertEquals(rtpCodecOfSdp({ encoding: "OPUS", clockRate: 48000 }), "opus");
  assertEquals(rtpCodecOfSdp({ encoding: "opus", clockRate: 16000 }), undefined);
  assertEquals(rtpCodecOfSdp({ encoding: "", clockRate: 0, payloadType: 8 }), "g711_alaw");
  assertEquals(rtpCodecOfSdp({ encoding: "", clockRate: 0, payloadType: 111 }), undefined);
  assertThrows(() => codecInfo("g729" as never), RangeError);
});
