import { assert, assertEquals, assertInstanceOf, assertThrows } from "@std/assert";
import {
  decodeTelephoneEvent,
  digitToEvent,
  encodeTelephoneEvent,
  eventToDigit,
  isRtcpPacket,
  parseRtcp,
  parseRtp,
  RtpParseError,
  serializeRtcp,
  serializeRtp,
} from "../../src/rtp/mod.ts";

Deno.test("RTP header round-trips every field, with CSRCs, extension and padding", () => {
  const packet = {
    marker: true,
    payloadType: 111,
    sequenceNumber: 65535,
    timestamp: 0xfffffff0,
    ssrc: 0xdeadbeef,
    csrc: [1, 2, 0xffffffff],
    extension: { profile: 0xbede, data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) },
    payload: new Uint8Array([9, 8, 7]),
    padding: 5,
  };
  const bytes = serializeRtp(packet);
  assertEquals(bytes.length, 12 + 12 + 12 + 3 + 5);
  const parsed = parseRtp(bytes);
  assertEquals(parsed, packet);
  const plain = parseRtp(serializeRtp({ ...packet, csrc: [], extension: undefined, padding: 0 }));
  assertEquals(plain.csrc, undefined);
  assertEquals(plain.extension, undefined);
  assertEquals(plain.payload, packet.payload);
  assertEquals(plain.marker, true);
});

Deno.test("RTP parser rejects hostile packets with the typed error", () => {
  const good = serializeRtp({
    marker: false,
    payloadType: 0,
    sequenceNumber: 1,
    timestamp: 2,
    ssrc: 3,
    payload: new Uint8Array(4),
  });
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(0), "truncated"],
    [good.subarray(0, 11), "truncated"],
    [Uint8Array.of(0x40, ...good.subarray(1)), "bad_version"],
    [Uint8Array.of(0x8f, ...good.subarray(1)), "truncated"], // 15 CSRCs announced
    [Uint8Array.of(0x90, ...good.subarray(1, 12), 0xbe, 0xde, 0, 5), "truncated"], // extension past the end
    [Uint8Array.of(0xa0, ...good.subarray(1, -1), 0), "bad_padding"], // padding 0
    [Uint8Array.of(0xa0, ...good.subarray(1, -1), 200), "bad_padding"], // padding past header
  ];
  for (const [bytes, code] of cases) {
    const error = assertThrows(() => parseRtp(bytes), RtpParseError);
    assertEquals(error.code, code, `for ${bytes.join(",")}`);
  }
  assertThrows(() => parseRtp("x" as unknown as Uint8Array), RtpParseError);
});

Deno.test("RTP and RTCP parsers throw nothing but RtpParseError on random bytes", () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 0x100000000;
  let parsed = 0;
  for (let i = 0; i < 20000; i++) {
    const bytes = new Uint8Array(Math.floor(random() * 80));
    for (let j = 0; j < bytes.length; j++) bytes[j] = random() * 256;
    if (i % 2 === 0 && bytes.length > 0) bytes[0] = (bytes[0] & 0x3f) | 0x80; // mostly v2
    for (const parse of [parseRtp, parseRtcp, decodeTelephoneEvent]) {
      try {
        parse(bytes);
        parsed++;
      } catch (error) {
        assertInstanceOf(error, RtpParseError);
      }
    }
  }
  assert(parsed > 1000, "some random packets parse");
});

Deno.test("RFC 4733 telephone-event payloads and digit mapping round-trip", () => {
  for (
    const event of [{ event: 0, end: false, volume: 10, duration: 160 }, {
      event: 11,
      end: true,
      volume: 63,
      duration: 65535,
    }]
  ) {
    assertEquals(decodeTelephoneEvent(encodeTelephoneEvent(event)), event);
  }
  assertEquals([..."0123456789*#ABCDd"].map(digitToEvent), [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
    13,
    14,
    15,
    15,
  ]);
  assertEquals(eventToDigit(11), "#");
  assertEquals(eventToDigit(16), undefined);
  assertThrows(() => digitToEvent("x"), RangeError);
  assertThrows(
    () => encodeTelephoneEvent({ event: 1, end: false, volume: 64, duration: 0 }),
    RangeError,
  );
});

Deno.test("RTCP SR, RR and BYE round-trip in a compound packet; unknown types are skipped", () => {
  const block = {
    ssrc: 9,
    fractionLost: 12,
    cumulativeLost: -3,
    highestSeq: 70000,
    jitter: 44,
    lsr: 0x12345678,
    dlsr: 65536,
  };
  const packets = [
    {
      type: "sr" as const,
      ssrc: 1,
      ntpSeconds: 3900000000,
      ntpFraction: 0x80000000,
      rtpTimestamp: 160,
      packetCount: 50,
      octetCount: 8000,
      reports: [block],
    },
    { type: "rr" as const, ssrc: 2, reports: [block, { ...block, ssrc: 10 }] },
    { type: "bye" as const, ssrcs: [1, 2], reason: "bye now" },
  ];
  const bytes = serializeRtcp(packets);
  assert(isRtcpPacket(bytes));
  assertEquals(parseRtcp(bytes), packets);
  // An SDES (type 202) in the middle is skipped, not fatal.
  const sdes = Uint8Array.of(0x81, 202, 0, 1, 0, 0, 0, 1);
  const mixed = new Uint8Array([...serializeRtcp([packets[1]]), ...sdes]);
  assertEquals(parseRtcp(mixed)[1], { type: "other", packetType: 202 });
  // Length past the end.
  const error = assertThrows(() => parseRtcp(bytes.subarray(0, bytes.length - 4)), RtpParseError);
  assertEquals(error.code, "bad_length");
});
