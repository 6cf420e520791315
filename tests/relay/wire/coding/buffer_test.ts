import { assertEquals, assertThrows } from "@std/assert";
import { MoqParseError } from "../../../../src/relay/error.ts";
import {
  SessionErrorCode,
  sessionErrorCode,
} from "../../../../src/relay/wire/draft14/error_codes.ts";
import { BufferReader, BufferWriter } from "../../../../src/relay/wire/coding/buffer.ts";

Deno.test("buffer writer and reader round-trip every field kind", () => {
  const w = new BufferWriter(1); // forces growth
  w.u8(200).u16(0xbeef).varint(0).varint(16384).varint(Number.MAX_SAFE_INTEGER).flag(true)
    .bytes(new Uint8Array([1, 2])).lengthPrefixedBytes(new Uint8Array([3])).string("héllo")
    .tuple(["voice", "room-1"]).location({ group: 7, object: 300 });
  const r = new BufferReader(w.finish());
  assertEquals(r.u8(), 200);
  assertEquals(r.u16(), 0xbeef);
  assertEquals(r.varint(), 0);
  assertEquals(r.varint(), 16384);
  assertEquals(r.varint(), Number.MAX_SAFE_INTEGER);
  assertEquals(r.flag("Forward"), true);
  assertEquals(r.bytes(2), new Uint8Array([1, 2]));
  assertEquals(r.lengthPrefixedBytes(), new Uint8Array([3]));
  assertEquals(r.string(), "héllo");
  assertEquals(r.tuple(), ["voice", "room-1"]);
  assertEquals(r.location(), { group: 7, object: 300 });
  assertEquals(r.atEnd, true);
  r.expectEnd();
});

Deno.test("buffer reader names the message in its errors", () => {
  const err = assertThrows(
    () => new BufferReader(new Uint8Array([0x05]), "SUBSCRIBE").lengthPrefixedBytes(),
    MoqParseError,
  );
  assertEquals(err.message, "Cannot decode SUBSCRIBE: length past the end of the message");
  assertEquals(sessionErrorCode(err), SessionErrorCode.PROTOCOL_VIOLATION);
});

Deno.test("buffer reader throws a parse error on any read past the end", () => {
  const empty = () => new BufferReader(new Uint8Array());
  assertThrows(() => empty().u8(), MoqParseError);
  assertThrows(() => empty().u16(), MoqParseError);
  assertThrows(() => empty().varint(), MoqParseError);
  assertThrows(() => new BufferReader(new Uint8Array([0x80, 1])).varint(), MoqParseError);
  assertThrows(() => empty().bytes(1), MoqParseError);
  assertThrows(() => empty().location(), MoqParseError);
  assertThrows(() => new BufferReader(new Uint8Array([0x01])).u16(), MoqParseError);
});

Deno.test("buffer reader rejects invalid UTF-8 in strings and tuple fields", () => {
  assertThrows(
    () => new BufferReader(new Uint8Array([0x02, 0xc3, 0x28])).string(),
    MoqParseError,
    "invalid UTF-8",
  );
  assertThrows(
    () => new BufferReader(new Uint8Array([0x01, 0x01, 0xff])).tuple(),
    MoqParseError,
    "invalid UTF-8",
  );
});

Deno.test("buffer reader enforces namespace tuple limits of 1 to 32 fields and 4096 bytes", () => {
  assertThrows(() => new BufferReader(new Uint8Array([0x00])).tuple(), MoqParseError, "0 fields");
  assertEquals(new BufferReader(new Uint8Array([0x00])).tuple({ minFields: 0 }), []);
  const w = new BufferWriter();
  w.varint(33);
  for (let i = 0; i < 33; i++) w.string("a");
  assertThrows(() => new BufferReader(w.finish()).tuple(), MoqParseError, "33 fields");
  // A hostile count is rejected before any field is read.
  assertThrows(
    () => new BufferReader(new Uint8Array([0xc0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])).tuple(),
    MoqParseError,
  );
  const big = new BufferWriter().varint(2).string("x".repeat(4000)).string("y".repeat(100))
    .finish();
  assertThrows(() => new BufferReader(big).tuple(), MoqParseError, "longer than 4096");
});

Deno.test("buffer reader flags must be 0 or 1", () => {
  assertThrows(
    () => new BufferReader(new Uint8Array([2])).flag("Forward"),
    MoqParseError,
    "Forward must be 0 or 1",
  );
});

Deno.test("buffer reader enforces a maximum length with the requested code", () => {
  const bytes = new BufferWriter().lengthPrefixedBytes(new Uint8Array(5)).finish();
  const err = assertThrows(
    () => new BufferReader(bytes).lengthPrefixedBytes(4, "key_value_formatting"),
    MoqParseError,
  );
  assertEquals(sessionErrorCode(err), SessionErrorCode.KEY_VALUE_FORMATTING_ERROR);
});

Deno.test("buffer reader reports trailing bytes", () => {
  assertThrows(
    () => new BufferReader(new Uint8Array([1, 2])).expectEnd(),
    MoqParseError,
    "2 trailing bytes",
  );
});

Deno.test("buffer writer refuses values the wire cannot carry", () => {
  assertThrows(() => new BufferWriter().u8(256), RangeError);
  assertThrows(() => new BufferWriter().u16(65536), RangeError);
  assertThrows(() => new BufferWriter().varint(-1), RangeError);
  assertThrows(() => new BufferWriter().tuple([]), RangeError);
  assertThrows(() => new BufferWriter().tuple(new Array(33).fill("a")), RangeError);
  assertThrows(() => new BufferWriter().string("abc", 2), RangeError);
  new BufferWriter().tuple([], { minFields: 0 });
});

Deno.test("buffer reader byte slices alias the input without copying", () => {
  const input = new Uint8Array([9, 8, 7]);
  const slice = new BufferReader(input).bytes(2);
  assertEquals(slice.buffer, input.buffer);
});
