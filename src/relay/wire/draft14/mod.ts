/**
 * The draft-ietf-moq-transport-14 wire codec: control messages, data streams, datagrams and
 * error codes (with the shared coding layer re-exported). Pure encoding and decoding, plus an async reader for streams; no sessions.
 *
 * Decoders throw only {@link MoqParseError} (with a protocol-neutral kind) on malformed
 * input; encoders throw `RangeError` / `TypeError` for values the wire cannot carry.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 *
 * const frame = draft14.encodeControlMessage({ type: "unsubscribe", requestId: 4 });
 * assertEquals(frame, Uint8Array.of(0x0a, 0x00, 0x01, 0x04)); // type, length, payload
 * assertEquals(draft14.decodeControlMessage(draft14.MessageType.UNSUBSCRIBE, frame.subarray(3)), {
 *   type: "unsubscribe",
 *   requestId: 4,
 * });
 * ```
 *
 * @module
 */
export * from "../coding/mod.ts";
export * from "./error_codes.ts";
export * from "./parameters.ts";
export * from "./messages.ts";
export * from "./data_object.ts";
export * from "./data_stream.ts";
export * from "./subgroup_stream.ts";
export * from "./datagram.ts";
export * from "./datagram_lane.ts";
export * from "./fetch_stream.ts";
export * from "./extensions.ts";
export { MoqError, type MoqErrorKind } from "../../error.ts";
