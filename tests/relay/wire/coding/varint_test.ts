import { assertEquals, assertThrows } from "@std/assert";
import { MoqParseError } from "../../../../src/relay/error.ts";
import {
  SessionErrorCode,
  sessionErrorCode,
} from "../../../../src/relay/wire/draft14/error_codes.ts";
import {
  decodeVarint,
  encodeVarint,
  MAX_VARINT,
  varintSize,
  writeVarint,
} from "../../../../src/relay/wire/coding/varint.ts";

Deno.test("varint encodes the RFC 9000 appendix A.1 examples byte for byte", () => {
  assertEquals(encodeVarint(37), new Uint8Array([0x25]));
  assertEquals(encodeVarint(15293), new Uint8Array([0x7b, 0xbd]));
  assertEquals(encodeVarint(494878333), new Uint8Array([0x9d, 0x7f, 0x3e, 0x7d]));
  // 151288809941952652 is above 2^53, so the 8-byte example is checked with a safe value.
  assertEquals(
    encodeVarint(2 ** 40 + 5),
    new Uint8Array([0xc0, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05]),
  );
});

Deno.test("varint decodes the RFC 9000 examples including a non-minimal encoding", () => {
  assertEquals(decodeVarint(new Uint8Array([0x25])), { value: 37, size: 1 });
  assertEquals(decodeVarint(new Uint8Array([0x40, 0x25])), { value: 37, size: 2 });
  assertEquals(decodeVarint(new Uint8Array([0x9d, 0x7f, 0x3e, 0x7d])), {
    value: 494878333,
    size: 4,
  });
});

Deno.test("varint picks the minimal size at every boundary", () => {
  const cases: [number, number][] = [
    [0, 1],
    [63, 1],
    [64, 2],
    [16383, 2],
    [16384, 4],
    [1073741823, 4],
    [1073741824, 8],
    [MAX_VARINT, 8],
  ];
  for (const [value, size] of cases) {
    assertEquals(varintSize(value), size, `size of ${value}`);
    const bytes = encodeVarint(value);
    assertEquals(bytes.length, size);
    assertEquals(decodeVarint(bytes), { value, size });
  }
});

Deno.test("varint round-trips Number.MAX_SAFE_INTEGER", () => {
  const bytes = encodeVarint(Number.MAX_SAFE_INTEGER);
  assertEquals(bytes, new Uint8Array([0xc0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  assertEquals(decodeVarint(bytes).value, Number.MAX_SAFE_INTEGER);
});

Deno.test("varint decoding rejects values above MAX_SAFE_INTEGER with a parse error", () => {
  const err = assertThrows(
    () => decodeVarint(new Uint8Array([0xc0, 0x20, 0, 0, 0, 0, 0, 0])),
    MoqParseError,
  );
  assertEquals(sessionErrorCode(err), SessionErrorCode.PROTOCOL_VIOLATION);
  assertThrows(() => decodeVarint(new Uint8Array(8).fill(0xff)), MoqParseError);
});

Deno.test("varint encoding rejects unsafe, negative and fractional values with RangeError", () => {
  assertThrows(() => encodeVarint(Number.MAX_SAFE_INTEGER + 1), RangeError);
  assertThrows(() => encodeVarint(-1), RangeError);
  assertThrows(() => encodeVarint(1.5), RangeError);
  assertThrows(() => encodeVarint(NaN), RangeError);
});

Deno.test("varint decoding of truncated input throws a parse error", () => {
  assertThrows(() => decodeVarint(new Uint8Array([])), MoqParseError);
  assertThrows(() => decodeVarint(new Uint8Array([0x40])), MoqParseError);
  assertThrows(() => decodeVarint(new Uint8Array([0x80, 0, 0])), MoqParseError);
  assertThrows(() => decodeVarint(new Uint8Array([0xc0, 0, 0, 0, 0, 0, 0])), MoqParseError);
});

Deno.test("writeVarint writes at an offset and refuses a short buffer", () => {
  const buf = new Uint8Array(5);
  assertEquals(writeVarint(buf, 1, 15293), 3);
  assertEquals(buf, new Uint8Array([0, 0x7b, 0xbd, 0, 0]));
  assertThrows(() => writeVarint(buf, 4, 15293), RangeError);
});
