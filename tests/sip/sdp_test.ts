import { assert, assertEquals, assertThrows } from "@std/assert";
import { SdpError } from "../../src/sip/error.ts";
import { payloadMapOf } from "../../src/sip/rtp_media.ts";
import { negotiateAudio, parseSdp, SDP_LIMITS, writeSdp } from "../../src/sip/sdp.ts";

const base = {
  sessionId: "42",
  version: 3,
  address: "192.0.2.7",
  port: 20_000,
  dtmfPayloadType: 101,
};

Deno.test("SDP: what writeSdp writes parses back to the same codecs, port, address, direction and ptime", () => {
  for (const direction of ["sendrecv", "sendonly", "recvonly", "inactive"] as const) {
    const text = writeSdp({
      ...base,
      direction,
      ptime: 20,
      codecs: [
        { codec: "g711_alaw", payloadType: 8, clockRate: 8000, channels: 1 },
        { codec: "opus", payloadType: 111, clockRate: 48000, channels: 2 },
      ],
    });
    const sdp = parseSdp(text);
    assertEquals([sdp.sessionId, sdp.version, sdp.address], ["42", "3", "192.0.2.7"]);
    const m = sdp.media[0];
    assertEquals([m.type, m.port, m.protocol, m.direction, m.ptime], [
      "audio",
      20_000,
      "RTP/AVP",
      direction,
      20,
    ]);
    assertEquals(m.formats, [8, 111, 101]);
    assertEquals(m.rtpmap.get(111), { encoding: "opus", clockRate: 48000, channels: 2 });
    assertEquals(m.rtpmap.get(8), { encoding: "PCMA", clockRate: 8000, channels: 1 });
    const audio = negotiateAudio(sdp, ["g711_alaw"]);
    assertEquals([audio.codec, audio.payloadType, audio.dtmfPayloadType], ["g711_alaw", 8, 101]);
    // And writing the negotiated answer again is stable.
    assertEquals(
      parseSdp(
        writeSdp({
          ...base,
          direction,
          codecs: [{
            codec: audio.codec,
            payloadType: audio.payloadType,
            clockRate: audio.clockRate,
            channels: audio.channels,
          }],
        }),
      ).media[0].port,
      20_000,
    );
  }
});

Deno.test("SDP: hostile inputs get SdpError (nothing else); bodies at the limits still parse", () => {
  const ok = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n";
  const hostile: Record<string, string> = {
    empty: "",
    "no v=0": "o=- 1 1 IN IP4 1.2.3.4\r\n",
    "too long": ok + "a=x:" + "y".repeat(SDP_LIMITS.maxLength),
    "too many lines": ok + "a=sendrecv\r\n".repeat(SDP_LIMITS.maxLines + 1),
    "long line": ok + "a=" + "z".repeat(SDP_LIMITS.maxLineLength + 1) + "\r\n",
    "media bomb": ok + "m=audio 4000 RTP/AVP 0\r\n".repeat(SDP_LIMITS.maxMedia + 1),
    "format bomb": ok + "m=audio 4000 RTP/AVP " +
      Array.from({ length: SDP_LIMITS.maxFormats + 1 }, (_, i) => i).join(" ") + "\r\n",
    "bad port": ok + "m=audio 99999 RTP/AVP 0\r\n",
    "bad format": ok + "m=audio 4000 RTP/AVP 0 abc\r\n",
    "bad address": ok.replace("c=IN IP4 10.0.0.1", "c=IN IP4 10.0.0.1;rm -rf"),
    "binary": "v=0\r\n\u0000\u0001\u0002\r\n",
    "no equals": ok + "garbage\r\n",
    "bad o=": "v=0\r\no=-\r\n",
    "rtpmap junk": ok + "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 x/notanumber\r\n",
  };
  for (const [name, text] of Object.entries(hostile)) {
    let error: unknown;
    try {
      parseSdp(text);
    } catch (e) {
      error = e;
    }
    assert(error instanceof SdpError, `${name}: ${error} (${typeof error})`);
  }
  // Right at the limits a body is still accepted (the limits, not time, bound the work).
  const big = ok + "m=audio 4000 RTP/AVP 0\r\n" +
    "a=fmtp:0 x\r\n".repeat(SDP_LIMITS.maxLines - 7);
  parseSdp(big.slice(0, SDP_LIMITS.maxLength));
});

Deno.test("SDP: random mutations of a valid offer never throw anything but SdpError", () => {
  const valid = writeSdp({
    ...base,
    direction: "sendrecv",
    codecs: [{ codec: "g711_ulaw", payloadType: 0, clockRate: 8000, channels: 1 }],
  });
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 5000; i++) {
    const chars = [...valid];
    for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) {
      chars[Math.floor(rand() * chars.length)] = String.fromCharCode(Math.floor(rand() * 128));
    }
    try {
      parseSdp(chars.join(""));
    } catch (error) {
      assert(error instanceof SdpError, `mutation ${i}: ${error}`);
    }
  }
});

const offer = (formats: string, ...attributes: string[]) =>
  parseSdp(
    "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n" +
      `m=audio 4000 RTP/AVP ${formats}\r\n` + attributes.map((a) => `a=${a}\r\n`).join(""),
  );

// Moved from tests/rtp/packet_test.ts with its assertions when the RTP side's own, test-only
// negotiator (negotiatePayloadMap) was removed: the gateway's negotiateAudio is the one.
Deno.test("payload map negotiation picks the first supported codec and matching telephone-event", () => {
  const audio = negotiateAudio(
    offer(
      "111 0 101 110",
      "rtpmap:111 opus/48000/2",
      "rtpmap:101 telephone-event/8000",
      "rtpmap:110 telephone-event/48000",
    ),
    ["opus", "g711_ulaw", "g711_alaw"],
  );
  assertEquals(payloadMapOf(audio), {
    audio: { payloadType: 111, codec: "opus", clockRate: 48000 },
    telephoneEvent: { payloadType: 110, clockRate: 48000 },
  });
  assertEquals(payloadMapOf(negotiateAudio(offer("8"))).audio.codec, "g711_alaw");
  assertThrows(() => negotiateAudio(offer("18", "rtpmap:18 G729/8000")), SdpError);
});

Deno.test("SDP answer repeats the telephone-event events the offer listed (RFC 4733 §2.4.1)", () => {
  const answer = (o: ReturnType<typeof offer>) => {
    const audio = negotiateAudio(o);
    return parseSdp(writeSdp({
      ...base,
      direction: "sendrecv",
      codecs: [audio],
      dtmfPayloadType: audio.dtmfPayloadType,
      dtmfClockRate: audio.dtmfClockRate,
      dtmfEvents: audio.dtmfEvents,
    })).media[0];
  };
  assertEquals(
    answer(offer("0 101", "rtpmap:101 telephone-event/8000", "fmtp:101 0-15")).fmtp.get(101),
    "0-15",
  );
  assertEquals(
    answer(offer("0 96", "rtpmap:96 telephone-event/8000", "fmtp:96 0-11,16")).fmtp.get(96),
    "0-11,16",
  );
  // No fmtp offered: the RFC's default, 0-15, not our 0-16.
  assertEquals(answer(offer("0 101", "rtpmap:101 telephone-event/8000")).fmtp.get(101), "0-15");
  // An offer of ours (no negotiated audio) lists what we handle.
  const ours = parseSdp(writeSdp({
    ...base,
    direction: "sendrecv",
    codecs: [{ codec: "g711_ulaw", payloadType: 0, clockRate: 8000, channels: 1 }],
  })).media[0];
  assertEquals(ours.fmtp.get(101), "0-16");
});

Deno.test("SDP: an Opus offer gets telephone-event back at the rate it offered, /48000 or /8000", () => {
  for (const rate of [48000, 8000]) {
    const audio = negotiateAudio(
      offer(
        "111 101",
        "rtpmap:111 opus/48000/2",
        `rtpmap:101 telephone-event/${rate}`,
        "fmtp:101 0-15",
      ),
      ["g711_ulaw", "g711_alaw", "opus"],
    );
    assertEquals([audio.codec, audio.dtmfPayloadType, audio.dtmfClockRate], ["opus", 101, rate]);
    const m = parseSdp(writeSdp({
      ...base,
      direction: "sendrecv",
      codecs: [{ codec: audio.codec, payloadType: 111, clockRate: 48000, channels: 2 }],
      dtmfPayloadType: audio.dtmfPayloadType,
      dtmfClockRate: audio.dtmfClockRate,
      dtmfEvents: audio.dtmfEvents,
    })).media[0];
    assertEquals(m.formats, [111, 101]);
    assertEquals(m.rtpmap.get(101), { encoding: "telephone-event", clockRate: rate, channels: 1 });
    assertEquals(m.fmtp.get(101), "0-15");
    assertEquals(payloadMapOf(audio).telephoneEvent, { payloadType: 101, clockRate: rate });
  }
});
