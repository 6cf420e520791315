/**
 * The byte-level coding every MoQT wire dialect shares: QUIC varints, a bounds-checked
 * buffer reader and writer, and an async reader over a stream. No message of any draft
 * lives here, so the next draft's folder starts from these.
 *
 * Decoders throw only {@link MoqParseError} on malformed input; encoders throw `RangeError`
 * / `TypeError` for values the wire cannot carry.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { decodeVarint, encodeVarint } = draft14;
 *
 * assertEquals(encodeVarint(494878333), Uint8Array.of(0x9d, 0x7f, 0x3e, 0x7d));
 * assertEquals(decodeVarint(encodeVarint(15293)), { value: 15293, size: 2 });
 * ```
 *
 * @module
 */
export * from "./varint.ts";
export * from "./buffer.ts";
export * from "./stream_reader.ts";
export { MoqParseError, type MoqParseErrorKind } from "../../error.ts";
