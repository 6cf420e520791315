import { assertEquals, assertThrows } from "@std/assert";
import { MoqParseError } from "../../../../src/relay/error.ts";
import {
  decodeExtensions,
  encodeExtensions,
  encodeTimestampExtension,
  ExtensionType,
  joinTimestamp,
  readTimestampExtension,
  splitTimestamp,
} from "../../../../src/relay/wire/draft14/extensions.ts";
import { nowMicros } from "../../../../src/voice/track.ts";
import { concat } from "../_streams.ts";

const te = new TextEncoder();

Deno.test("extension headers parse into key-value pairs and pass through as raw bytes", () => {
  // The draft-14 §10.5 example: Type 4 = 2186796243, Type 77 (odd) = "traceID:123456".
  const block = encodeExtensions([
    { type: 4, value: 2186796243 },
    { type: 77, value: te.encode("traceID:123456") },
  ]);
  assertEquals(decodeExtensions(block), [
    { type: 4, value: 2186796243 },
    { type: 77, value: te.encode("traceID:123456") },
  ]);
  assertEquals(readTimestampExtension(block), undefined);
  assertEquals(readTimestampExtension(undefined), undefined);
  const withTs = concat(block, encodeTimestampExtension(1_700_000_000_000));
  assertEquals(readTimestampExtension(withTs), 1_700_000_000_000);
  assertEquals(
    encodeTimestampExtension(1000),
    new Uint8Array([ExtensionType.TIMESTAMP, 0x43, 0xe8]),
  );
  assertThrows(() => decodeExtensions(new Uint8Array([0x05, 0x09, 0x00])), MoqParseError);
});

Deno.test("capture time survives the extension block and garbage yields nothing", () => {
  const t = nowMicros();
  assertEquals(splitTimestamp(joinTimestamp(t, undefined)).timestamp, t);
  assertEquals(splitTimestamp(undefined).timestamp, undefined);
  assertEquals(splitTimestamp(Uint8Array.of(0x11, 0x09, 1)).timestamp, undefined);
});

Deno.test("the timestamp header becomes the object's timestamp; other headers pass through raw", () => {
  const others = encodeExtensions([{ type: 0x3c, value: 2 }, {
    type: 0x0b,
    value: Uint8Array.of(7),
  }]);
  // Timestamp first (what @moq/net and this relay send): the rest is a view, no copy.
  const first = encodeExtensions([
    { type: ExtensionType.TIMESTAMP, value: 123_456 },
    ...decodeExtensions(others),
  ]);
  const split = splitTimestamp(first);
  assertEquals(split, { timestamp: 123_456, extensions: others });
  assertEquals(split.extensions!.buffer, first.buffer);
  // Timestamp in the middle: taken out, the others kept in order.
  const middle = encodeExtensions([
    { type: 0x3c, value: 2 },
    { type: ExtensionType.TIMESTAMP, value: 9 },
    { type: 0x0b, value: Uint8Array.of(7) },
  ]);
  assertEquals(splitTimestamp(middle), { timestamp: 9, extensions: others });
  // No timestamp: the block is untouched.
  assertEquals(splitTimestamp(others), { extensions: others });
  // Joining puts the timestamp first; the wire block round-trips.
  assertEquals(
    joinTimestamp(9, others),
    encodeExtensions([{ type: 0x10, value: 9 }, ...decodeExtensions(others)]),
  );
  assertEquals(splitTimestamp(joinTimestamp(9, others)), { timestamp: 9, extensions: others });
  assertEquals(joinTimestamp(undefined, others), others);
  assertEquals(joinTimestamp(undefined, new Uint8Array(0)), undefined);
  // Rounded; one the wire cannot carry is left out.
  assertEquals(joinTimestamp(1.6, undefined), Uint8Array.of(0x10, 0x02));
  assertEquals(joinTimestamp(-5, undefined), undefined);
  assertEquals(joinTimestamp(Number.NaN, others), others);
});
