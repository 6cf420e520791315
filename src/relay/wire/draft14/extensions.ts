/**
 * Draft-14 object extension headers (§10.2.1.2): a block of Key-Value-Pairs after each
 * object's header.
 *
 * Relays pass extension headers through unparsed, except the TIMESTAMP header, which the
 * protocol-neutral model carries as the object's `timestamp` (as moq-lite's `Frame` has
 * its timestamp): {@link splitTimestamp} takes it out of a received block,
 * {@link joinTimestamp} puts it back in front of the other headers when sending.
 *
 * @module
 */
import { MoqParseError } from "../../error.ts";
import { BufferReader, BufferWriter } from "../coding/buffer.ts";
import {
  readVarintUnchecked,
  varintLengthFromFirstByte,
  varintSize,
  writeVarint,
} from "../coding/varint.ts";
import { type ParameterValue, readKeyValuePair, writeKeyValuePair } from "./parameters.ts";

/**
 * Object extension header types. TIMESTAMP (0x10) is not in draft-14: it is the LOC /
 * MOQ Properties timestamp that @moq/net 0.3.4 puts on every object (in its track's
 * timescale, milliseconds by default; on draft-14 its subscribers ignore it, having no
 * TIMESCALE property to read it in).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { ExtensionType } = draft14;
 * assertEquals(ExtensionType.PRIOR_GROUP_ID_GAP, 60);
 * ```
 */
export const ExtensionType = {
  IMMUTABLE_EXTENSIONS: 0x0b,
  TIMESTAMP: 0x10,
  PRIOR_GROUP_ID_GAP: 0x3c,
  PRIOR_OBJECT_ID_GAP: 0x3e,
} as const;

/**
 * One object extension header (a Key-Value-Pair: number for even types, bytes for odd).
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * type ExtensionHeader = draft14.ExtensionHeader;
 * const h: ExtensionHeader = { type: 0x10, value: 1700000000000 };
 * ```
 */
export interface ExtensionHeader {
  /** The header type: even types carry a number, odd types bytes. */
  type: number;
  /** The header value: a number for even types, bytes for odd types. */
  value: ParameterValue;
}

/**
 * Parses an Extension Headers block into its headers, in order (duplicates kept).
 *
 * @throws {MoqParseError} If the block is not a sequence of well-formed Key-Value-Pairs
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { decodeExtensions } = draft14;
 * assertEquals(decodeExtensions(new Uint8Array([0x3c, 0x02])), [{ type: 60, value: 2 }]);
 * ```
 */
export function decodeExtensions(block: Uint8Array): ExtensionHeader[] {
  const r = new BufferReader(block, "extension headers");
  const out: ExtensionHeader[] = [];
  while (!r.atEnd) out.push(readKeyValuePair(r));
  return out;
}

/**
 * Builds an Extension Headers block.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeExtensions } = draft14;
 * assertEquals(encodeExtensions([{ type: 0x3c, value: 2 }]), new Uint8Array([0x3c, 0x02]));
 * ```
 */
export function encodeExtensions(headers: readonly ExtensionHeader[]): Uint8Array {
  const w = new BufferWriter(16);
  for (const h of headers) writeKeyValuePair(w, h.type, h.value);
  return w.finish();
}

/**
 * Finds the TIMESTAMP extension (0x10) in an Extension Headers block.
 *
 * @returns The timestamp in the track's timescale, or `undefined` if absent
 * @throws {MoqParseError} If the block is malformed
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeTimestampExtension, readTimestampExtension } = draft14;
 * assertEquals(readTimestampExtension(encodeTimestampExtension(42)), 42);
 * ```
 */
export function readTimestampExtension(block: Uint8Array | undefined): number | undefined {
  if (!block || block.length === 0) return undefined;
  const r = new BufferReader(block, "extension headers");
  while (!r.atEnd) {
    const { type, value } = readKeyValuePair(r);
    if (type === ExtensionType.TIMESTAMP) return value as number;
  }
  return undefined;
}

/**
 * Builds an Extension Headers block holding only a TIMESTAMP extension, as @moq/net sends.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeTimestampExtension } = draft14;
 * assertEquals(encodeTimestampExtension(1000), new Uint8Array([0x10, 0x43, 0xe8]));
 * ```
 */
export function encodeTimestampExtension(timestamp: number): Uint8Array {
  return encodeExtensions([{ type: ExtensionType.TIMESTAMP, value: timestamp }]);
}

/**
 * An object's extension headers as the model carries them: the TIMESTAMP value apart, the
 * other headers as raw bytes.
 */
export interface ObjectExtensions {
  /** The TIMESTAMP header's value, if the block had one. */
  timestamp?: number;
  /** Every other header, as encoded on the wire; absent when none. */
  extensions?: Uint8Array;
}

const NONE: ObjectExtensions = Object.freeze({});

/**
 * Takes the first TIMESTAMP header out of a received Extension Headers block. The other
 * headers stay raw (a view of the block when the timestamp comes first, as @moq/net and this
 * relay send it). A malformed block is passed through whole, without a timestamp: a relay
 * forwards what it cannot read.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeExtensions, splitTimestamp } = draft14;
 *
 * const block = encodeExtensions([{ type: 0x10, value: 1000 }, { type: 0x3c, value: 2 }]);
 * assertEquals(splitTimestamp(block), { timestamp: 1000, extensions: Uint8Array.of(0x3c, 0x02) });
 * assertEquals(splitTimestamp(Uint8Array.of(0x11, 0x09, 1)), { extensions: Uint8Array.of(0x11, 0x09, 1) });
 * ```
 */
export function splitTimestamp(block: Uint8Array | undefined): ObjectExtensions {
  if (!block || block.length === 0) return NONE;
  // Fast path: the timestamp first (type 0x10 is the one-byte varint 0x10).
  if (block[0] === ExtensionType.TIMESTAMP && block.length > 1) {
    const size = varintLengthFromFirstByte(block[1]);
    if (1 + size <= block.length) {
      const timestamp = readVarintUnchecked(block, 1, size);
      return 1 + size === block.length
        ? { timestamp }
        : { timestamp, extensions: block.subarray(1 + size) };
    }
  }
  const r = new BufferReader(block, "extension headers");
  try {
    while (!r.atEnd) {
      const start = r.position;
      const { type, value } = readKeyValuePair(r);
      if (type !== ExtensionType.TIMESTAMP) continue;
      const end = r.position;
      const rest = new Uint8Array(block.length - (end - start));
      rest.set(block.subarray(0, start));
      rest.set(block.subarray(end), start);
      // The rest must itself be well formed, or the whole block is passed through.
      decodeExtensions(rest);
      return rest.length > 0
        ? { timestamp: value as number, extensions: rest }
        : { timestamp: value as number };
    }
  } catch (error) {
    // A malformed block carries no usable timestamp: forward it untouched.
    if (!(error instanceof MoqParseError)) throw error;
  }
  return { extensions: block };
}

/**
 * The Extension Headers block to send for a model object: its TIMESTAMP header first, then
 * the other headers as they are; `undefined` when there is neither. A timestamp is rounded
 * to an integer; one the wire cannot carry (negative, not finite) is left out.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { joinTimestamp, splitTimestamp } = draft14;
 *
 * const block = joinTimestamp(1000, Uint8Array.of(0x3c, 0x02));
 * assertEquals(block, Uint8Array.of(0x10, 0x43, 0xe8, 0x3c, 0x02));
 * assertEquals(splitTimestamp(block), { timestamp: 1000, extensions: Uint8Array.of(0x3c, 0x02) });
 * assertEquals(joinTimestamp(undefined, undefined), undefined);
 * ```
 */
export function joinTimestamp(
  timestamp: number | undefined,
  extensions: Uint8Array | undefined,
): Uint8Array | undefined {
  const value = timestamp === undefined ? -1 : Math.round(timestamp);
  if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER)) {
    return extensions?.length ? extensions : undefined;
  }
  const size = varintSize(value);
  const rest = extensions?.length ?? 0;
  const out = new Uint8Array(1 + size + rest);
  out[0] = ExtensionType.TIMESTAMP;
  writeVarint(out, 1, value);
  if (extensions && rest > 0) out.set(extensions, 1 + size);
  return out;
}
