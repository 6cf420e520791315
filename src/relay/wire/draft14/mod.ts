/**
 * The draft-ietf-moq-transport-14 wire codec: varints, control messages, data streams and
 * datagrams. Pure encoding and decoding, plus an async reader for streams; no sessions.
 *
 * Decoders throw only {@link MoqParseError} (with a session termination code) on malformed
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
export * from "./varint.ts";
export * from "./buffer.ts";
export * from "./stream_reader.ts";
export * from "./parameters.ts";
export * from "./messages.ts";
export * from "./data.ts";
export { MoqError, MoqParseError } from "../../error.ts";
