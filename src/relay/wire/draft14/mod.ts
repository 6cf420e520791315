/**
 * The draft-ietf-moq-transport-14 wire codec: control messages, data streams, datagrams and
 * error codes (with the shared coding layer re-exported). Pure encoding and decoding, plus an async reader for streams; no sessions.
 *
 * Decoders throw only {@link MoqParseError} (with a protocol-neutral kind) on malformed
 * input; encoders throw `RangeError` / `TypeError` for values the wire cannot carry.
 *
 * @example
 * ```ts
 * import { decodeControlMessage, encodeControlMessage, MessageType } from "./mod.ts";
 *
 * const frame = encodeControlMessage({ type: "unsubscribe", requestId: 4 });
 * // frame = [type 0x0a, length 0x0001, payload 0x04]
 * console.log(decodeControlMessage(MessageType.UNSUBSCRIBE, frame.subarray(3)));
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
export * from "./fetch_stream.ts";
export * from "./extensions.ts";
export { MoqError, type MoqErrorKind } from "../../error.ts";
