/**
 * QUIC variable-length integers (RFC 9000 §16) as JavaScript numbers.
 *
 * The two high bits of the first byte give the length (1, 2, 4 or 8 bytes). Values are
 * limited to `Number.MAX_SAFE_INTEGER` (2^53-1) although the wire allows 2^62-1: decoding a
 * larger value throws {@link MoqParseError}, encoding one throws `RangeError`. Decoding
 * accepts non-minimal encodings (minimal encoding is only a SHOULD in draft-14 §1.4).
 *
 * @module
 */
import { MoqParseError } from "../../error.ts";

/**
 * The largest value this codec handles: `Number.MAX_SAFE_INTEGER`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { MAX_VARINT } = draft14;
 * assertEquals(MAX_VARINT === Number.MAX_SAFE_INTEGER, true);
 * ```
 */
export const MAX_VARINT: number = Number.MAX_SAFE_INTEGER;

const TWO_POW_32 = 0x1_0000_0000;

/**
 * The number of bytes the minimal encoding of `value` takes (1, 2, 4 or 8).
 *
 * @throws {RangeError} If `value` is not an integer in 0..MAX_VARINT
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { varintSize } = draft14;
 * assertEquals([varintSize(63), varintSize(64), varintSize(16384)], [1, 2, 4]);
 * ```
 */
export function varintSize(value: number): 1 | 2 | 4 | 8 {
  if (value < 64 && value >= 0 && Number.isInteger(value)) return 1;
  checkEncodable(value);
  if (value < 16384) return 2;
  if (value < 1073741824) return 4;
  return 8;
}

/**
 * The length of a varint from its first byte.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { varintLengthFromFirstByte } = draft14;
 * assertEquals(varintLengthFromFirstByte(0xc0), 8);
 * ```
 */
export function varintLengthFromFirstByte(firstByte: number): 1 | 2 | 4 | 8 {
  return (1 << (firstByte >> 6)) as 1 | 2 | 4 | 8;
}

function checkEncodable(value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`Cannot encode varint: ${value} is not a non-negative integer`);
  }
  if (value > MAX_VARINT) {
    throw new RangeError(`Cannot encode varint: ${value} is above Number.MAX_SAFE_INTEGER`);
  }
}

/**
 * Writes the minimal encoding of `value` into `buffer` at `offset` and returns the offset
 * after it. The caller guarantees room ({@link varintSize} bytes).
 *
 * @throws {RangeError} If `value` is not an integer in 0..MAX_VARINT or the buffer is too short
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { writeVarint } = draft14;
 * const buf = new Uint8Array(8);
 * const end = writeVarint(buf, 0, 494878333); // RFC 9000 §A.1's 4-byte example
 * assertEquals(end, 4);
 * assertEquals(buf.subarray(0, end), new Uint8Array([0x9d, 0x7f, 0x3e, 0x7d]));
 * ```
 */
export function writeVarint(buffer: Uint8Array, offset: number, value: number): number {
  const size = varintSize(value);
  if (offset + size > buffer.length) {
    throw new RangeError("Cannot encode varint: buffer too short");
  }
  switch (size) {
    case 1:
      buffer[offset] = value;
      return offset + 1;
    case 2:
      buffer[offset] = 0x40 | (value >> 8);
      buffer[offset + 1] = value & 0xff;
      return offset + 2;
    case 4:
      buffer[offset] = 0x80 | (value >>> 24);
      buffer[offset + 1] = (value >>> 16) & 0xff;
      buffer[offset + 2] = (value >>> 8) & 0xff;
      buffer[offset + 3] = value & 0xff;
      return offset + 4;
    default: {
      const hi = Math.floor(value / TWO_POW_32);
      const lo = value >>> 0;
      buffer[offset] = 0xc0 | (hi >>> 24);
      buffer[offset + 1] = (hi >>> 16) & 0xff;
      buffer[offset + 2] = (hi >>> 8) & 0xff;
      buffer[offset + 3] = hi & 0xff;
      buffer[offset + 4] = lo >>> 24;
      buffer[offset + 5] = (lo >>> 16) & 0xff;
      buffer[offset + 6] = (lo >>> 8) & 0xff;
      buffer[offset + 7] = lo & 0xff;
      return offset + 8;
    }
  }
}

/**
 * Encodes `value` as a new minimal-length varint.
 *
 * @throws {RangeError} If `value` is not an integer in 0..MAX_VARINT
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeVarint } = draft14;
 * assertEquals(encodeVarint(15293), new Uint8Array([0x7b, 0xbd]));
 * ```
 */
export function encodeVarint(value: number): Uint8Array {
  const out = new Uint8Array(varintSize(value));
  writeVarint(out, 0, value);
  return out;
}

/**
 * Reads the varint of `size` bytes (from its first byte) at `offset`; the caller has checked
 * that the bytes are there. Internal fast path shared by the readers.
 *
 * @throws {MoqParseError} If the value is above MAX_VARINT
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { readVarintUnchecked } = draft14;
 * assertEquals(readVarintUnchecked(new Uint8Array([0x40, 0x25]), 0, 2), 37);
 * ```
 */
export function readVarintUnchecked(bytes: Uint8Array, offset: number, size: number): number {
  switch (size) {
    case 1:
      return bytes[offset];
    case 2:
      return ((bytes[offset] & 0x3f) << 8) | bytes[offset + 1];
    case 4:
      return (
        ((bytes[offset] & 0x3f) * 0x100_0000) +
        ((bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3])
      );
    default: {
      const hi = ((bytes[offset] & 0x3f) * 0x100_0000) +
        ((bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]);
      if (hi > 0x1f_ffff) {
        throw new MoqParseError("Cannot decode varint: value above Number.MAX_SAFE_INTEGER");
      }
      const lo = (bytes[offset + 4] * 0x100_0000) +
        ((bytes[offset + 5] << 16) | (bytes[offset + 6] << 8) | bytes[offset + 7]);
      return hi * TWO_POW_32 + lo;
    }
  }
}

/**
 * Decodes the varint at `offset` in `bytes`.
 *
 * @returns The value and the number of bytes it took
 * @throws {MoqParseError} If the bytes end inside the varint or the value is above MAX_VARINT
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { decodeVarint } = draft14;
 * assertEquals(decodeVarint(new Uint8Array([0x9d, 0x7f, 0x3e, 0x7d])), { value: 494878333, size: 4 });
 * ```
 */
export function decodeVarint(bytes: Uint8Array, offset = 0): { value: number; size: number } {
  if (offset >= bytes.length) {
    throw new MoqParseError("Cannot decode varint: no bytes left");
  }
  const size = varintLengthFromFirstByte(bytes[offset]);
  if (offset + size > bytes.length) {
    throw new MoqParseError("Cannot decode varint: truncated");
  }
  return { value: readVarintUnchecked(bytes, offset, size), size };
}
